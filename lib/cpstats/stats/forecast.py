"""Forecasts of a count series (children on plans, referrals) with prediction intervals.

Every model is called through :func:`fit_forecast`, which returns one row per
step ahead with the point forecast and 80% and 95% prediction intervals. The
series are short (about 10 annual points, 20 quarters), so every model is small
and fixed in form: nothing is selected per series, and each model has a stated
minimum length below which it falls back to a simpler stated model (the
``fitted`` and ``note`` columns say so).

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
arima        ARIMA(1,1,0) without constant; the "airline" (0,1,1)(0,1,1)m when seasonal.
sarimax      regression on the previous period's leading indicator (ICPCs, else s47
             enquiries, else referrals) with AR(1) errors and a constant; the indicator
             is held at its last value beyond the first step.
stock_flow   next stock = (stock + expected starts) x (1 - exit share), with starts the
             mean of the last 3 periods and the exit share (ends / (previous stock +
             starts)) the mean of the last 3 periods.
combo        the mean of the naive, mean_k, ets and arima forecasts (and stock_flow when
             starts and ends are given), point and bounds alike.

Across many series (every LA), :func:`forecast_panel` adds ``pooled`` (one regression
of the log change on features at the origin, over every LA and year: :func:`pooled_forecast`)
and ``combo_pooled`` (:data:`PANEL_COMBO`, the annual default). From child-level records,
:func:`hazard_forecast` (``stock_flow_hazard``) simulates the plans open now ending by
their time on plan. :func:`chair_capacity` turns a forecast into conference chairs.
The backtests are in :mod:`cpstats.stats.backtest`; methods and results in
``docs/forecasting.md``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of every forecast frame.
FORECAST_COLUMNS = (
    "step", "period", "point", "lower_80", "upper_80", "lower_95", "upper_95",
    "model", "fitted", "note",
)
#: Leading indicators tried by ``sarimax``, in order of preference (measure names).
LEADING_INDICATORS = ("icpcs", "s47_enquiries", "referrals")
#: Exogenous columns the aggregate stock-flow model needs (measure names).
FLOW_COLUMNS = ("cp_plans_started", "cp_plans_ended")
#: How many recent values ``mean_k`` and the stock-flow averages use.
K_RECENT = 3
#: Members of ``combo`` (``stock_flow`` joins when starts and ends are given).
COMBO_MEMBERS = ("naive", "mean_k", "ets", "arima")
_LEVELS = (0.80, 0.95)


@dataclass(frozen=True)
class _Fit:
    """A model's forecast before intervals: point, sd per step and t degrees of freedom."""

    point: np.ndarray
    sd: np.ndarray
    df: float


class TooShort(ValueError):
    """The series is too short for the model (the caller falls back)."""


@contextmanager
def quiet_statsmodels() -> Iterator[None]:
    """Silence statsmodels' fitting chatter (convergence, frequency, start values) here only.

    Short series routinely trigger these warnings; the backtest, not the optimiser's
    messages, tells us whether a fit is any good.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"statsmodels\.")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield


def season_of(index: pd.Index) -> int:
    """Steps per year implied by a PeriodIndex: 1 (annual), 4 (quarterly) or 12 (monthly)."""
    freq = getattr(index, "freqstr", "") or ""
    if freq.startswith("Q"):
        return 4
    if freq.startswith("M"):
        return 12
    return 1


def _sigma(residuals: np.ndarray, n_params: int) -> tuple[float, float]:
    """Root mean square of residuals and the t degrees of freedom they leave (at least 1)."""
    e = residuals[np.isfinite(residuals)]
    if e.size == 0:
        raise TooShort("no residuals to estimate the spread")
    return float(np.sqrt(np.mean(e**2))), float(max(e.size - n_params, 1))


def _need(y: np.ndarray, n: int, model: str) -> None:
    if y.size < n:
        raise TooShort(f"{model} needs at least {n} points, has {y.size}")


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
    "arima": "naive",
    "sarimax": "arima",
    "stock_flow": "naive",
}
#: Every model name :func:`fit_forecast` accepts.
MODELS: tuple[str, ...] = (*_MODELS, "combo")


def _trailing_run(y: pd.Series) -> pd.Series:
    """The last unbroken run of observed values (a gap or series break starts a new series)."""
    missing = y.isna().to_numpy()
    if not missing.size or missing[-1]:
        return y.iloc[:0]
    gaps = np.flatnonzero(missing)
    return y.iloc[gaps[-1] + 1:] if gaps.size else y


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


def _interval_frame(fit: _Fit) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"point": np.maximum(fit.point, 0.0)}
    for level in _LEVELS:
        q = stats.t.ppf(0.5 + level / 2, fit.df)
        tag = int(round(level * 100))
        out[f"lower_{tag}"] = np.maximum(fit.point - q * fit.sd, 0.0)
        out[f"upper_{tag}"] = np.maximum(fit.point + q * fit.sd, 0.0)
    return out


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


# --- A pooled model across many series (every LA) ------------------------------------------

#: Features the pooled model can use, each at the origin: last year's growth, the recent
#: mean over the current stock (pull back towards it), the balance of starts over ends,
#: ICPCs per plan started (the pipeline ahead of starts).
POOLED_CANDIDATES = ("growth", "reversion", "flow_balance", "icpc_pressure")
#: The features used, with no intercept: chosen on the annual backtest at origins
#: 2017-2019 only (an intercept carried the national trend of the training years forward,
#: biasing later forecasts upwards; growth and the ICPC pipeline added nothing there).
POOLED_FEATURES = ("reversion", "flow_balance")
#: Fewer training rows than this and the pooled model falls back to ``naive`` for every series.
POOLED_MIN_ROWS = 30


def _log_ratio(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a.to_numpy(dtype=float) / b.to_numpy(dtype=float)
        out = np.log(np.where(ratio > 0, ratio, np.nan))
    return pd.DataFrame(out, index=a.index, columns=a.columns)


def _wide(panel: dict, origin: pd.Period, columns: tuple[str, ...] = (*FLOW_COLUMNS, "icpcs")
          ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Stock and exogenous ``columns`` as period x series frames, cut at ``origin``."""
    keys = sorted(panel, key=str)
    stock = pd.concat({k: panel[k][0].loc[:origin] for k in keys}, axis=1).astype(float)
    exog: dict[str, pd.DataFrame] = {}
    for column in columns:
        parts = {k: (panel[k][1][column].loc[:origin] if panel[k][1] is not None
                     and column in panel[k][1].columns else pd.Series(np.nan, index=stock.index))
                 for k in keys}
        exog[column] = pd.concat(parts, axis=1).reindex(stock.index).astype(float)
    return stock, exog


def _features(stock: pd.DataFrame, exog: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    recent = stock.rolling(K_RECENT).mean()
    return {
        "growth": _log_ratio(stock, stock.shift(1)),
        "reversion": _log_ratio(recent, stock),
        "flow_balance": _log_ratio(exog["cp_plans_started"], exog["cp_plans_ended"]),
        "icpc_pressure": _log_ratio(exog["icpcs"], exog["cp_plans_started"]),
    }


def _stack(frame: pd.DataFrame) -> np.ndarray:
    return frame.to_numpy(dtype=float).ravel()


def pooled_forecast(panel: dict, origin: object, h: int,
                    features: tuple[str, ...] = POOLED_FEATURES,
                    intercept: bool = False) -> pd.DataFrame:
    """Forecast every series in ``panel`` with one regression pooled across them.

    For each step ``k`` the log change ``log(y[t+k] / y[t])`` is regressed on
    :data:`POOLED_FEATURES` at ``t`` over every series and every ``t`` with
    ``t + k <= origin`` (so nothing after the origin is seen). The forecast is
    ``y[origin] * exp(prediction)``; its intervals are the empirical quantiles of
    the pooled residuals, so they are asymmetric and never negative. A series with
    no usable features at the origin gets a naive point with the spread of every
    series' ``k``-step change (``fitted`` = ``naive_pooled``); a step with fewer than
    :data:`POOLED_MIN_ROWS` training rows falls back to the series' own ``naive``.

    Parameters
    ----------
    panel
        Maps a series key (LA code) to ``(y, exog)`` as for :func:`fit_forecast`;
        ``exog`` needs ``cp_plans_started``, ``cp_plans_ended`` and ``icpcs``.
    origin
        The forecast origin (a Period or a label such as ``2019``).
    h
        Steps ahead.

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`FORECAST_COLUMNS`, with ``model`` = ``pooled``.
    """
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    some = next(iter(panel.values()))[0]
    cut = origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq=some.index.freq)
    stock, exog = _wide(panel, cut)
    table = _features(stock, exog)
    const = 1.0 if intercept else 0.0
    x_all = np.column_stack([np.full(stock.size, const)] + [_stack(table[f]) for f in features])
    at_origin = np.column_stack([np.full(stock.shape[1], const)]
                                + [table[f].iloc[-1].to_numpy(dtype=float) for f in features])
    last = stock.iloc[-1].to_numpy(dtype=float)
    usable = np.isfinite(at_origin).all(axis=1) & (last > 0)
    columns = ("point", "lower_95", "lower_80", "upper_80", "upper_95")
    values = {c: np.full((stock.shape[1], h), np.nan) for c in columns}
    kind = np.full((stock.shape[1], h), "", dtype=object)
    for k in range(1, h + 1):
        target = _stack(_log_ratio(stock.shift(-k), stock))
        ok = np.isfinite(target) & np.isfinite(x_all).all(axis=1)
        if ok.sum() >= POOLED_MIN_ROWS:
            beta, *_ = np.linalg.lstsq(x_all[ok], target[ok], rcond=None)
            q = np.quantile(target[ok] - x_all[ok] @ beta, [0.025, 0.10, 0.90, 0.975])
            centre = at_origin[usable] @ beta
            for column, shift in zip(columns, (0.0, *q), strict=True):
                values[column][usable, k - 1] = last[usable] * np.exp(centre + shift)
            kind[usable, k - 1] = "pooled"
        changes = target[np.isfinite(target)]
        if changes.size >= POOLED_MIN_ROWS:
            # No features at the origin: no change, with the spread of every series' k-step change.
            rest = (kind[:, k - 1] == "") & (last > 0)
            q = np.quantile(changes, [0.025, 0.10, 0.90, 0.975])
            for column, shift in zip(columns, (0.0, *q), strict=True):
                values[column][rest, k - 1] = last[rest] * np.exp(shift)
            kind[rest, k - 1] = "naive_pooled"
    notes = {"pooled": "", "naive_pooled": "pooled: no usable features at the origin; naive point "
             "with the spread of every series' change",
             "naive": "pooled: too few series and years to pool (or a stock of 0); naive"}
    frames = []
    for j, key in enumerate(stock.columns):
        if np.isnan(last[j]):
            continue
        frame = pd.DataFrame({"step": np.arange(1, h + 1),
                              "period": [cut + s for s in range(1, h + 1)],
                              **{c: values[c][j] for c in columns}, "fitted": kind[j]})
        if (kind[j] == "").any():
            try:
                naive = fit_forecast("naive", panel[key][0].loc[:cut], h)
            except TooShort:
                frame = frame[kind[j] != ""]
            else:
                alone = frame["fitted"] == ""
                frame.loc[alone, list(columns)] = naive.loc[alone, list(columns)].to_numpy()
                frame.loc[alone, "fitted"] = "naive"
        if frame.empty:
            continue
        frames.append(frame.assign(model="pooled", note=frame["fitted"].map(notes), series=key))
    if not frames:
        return pd.DataFrame(columns=["series", *FORECAST_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["series", *FORECAST_COLUMNS]]


# --- A median regression of scaled changes, pooled across every LA ---------------------------

#: Features of ``pooled_median``, each a count at the origin divided by the series' scale:
#: the pull back to the mean of the last 2 values and to the mean of every value so far, starts
#: minus ends in the year, and the children the LA would gain at the median LA's rate per 10,000.
#: Chosen on origins 2016-2018 (``benchmarks/bench_forecast_annual.py``); no intercept, which
#: would carry the training years' national trend forward.
MEDIAN_FEATURES = ("recent_gap", "history_gap", "net_flow", "rate_gap")
#: Exogenous columns ``pooled_median`` needs besides the flows (a published rate per 10,000).
RATE_COLUMN = "cp_rate_per_10k"
_QUANTILES = (0.025, 0.10, 0.90, 0.975)


def _run_mean(values: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
    """Expanding mean of ``values`` within each series' unbroken runs of ``stock`` (a gap in the
    stock starts the mean again)."""
    run = stock.isna().cumsum()
    long = pd.DataFrame({"v": values.to_numpy().ravel(), "run": run.to_numpy().ravel(),
                         "col": np.tile(np.arange(stock.shape[1]), stock.shape[0])})
    counts = long["v"].notna().groupby([long["col"], long["run"]]).cumsum()
    mean = long["v"].fillna(0).groupby([long["col"], long["run"]]).cumsum() / counts.where(counts > 0)
    return pd.DataFrame(mean.to_numpy().reshape(stock.shape), index=stock.index,
                        columns=stock.columns).where(stock.notna())


def series_scale(stock: pd.DataFrame) -> pd.DataFrame:
    """Each series' in-sample mean absolute one-step change at every period, from its last
    unbroken run up to that period (the MASE scale a forecast made then is scored with)."""
    return _run_mean(stock.diff().abs(), stock)


def _median_features(stock: pd.DataFrame, exog: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    rate = exog[RATE_COLUMN].where(exog[RATE_COLUMN] > 0)
    history = _run_mean(stock, stock)
    return {
        "recent_gap": stock.rolling(2).mean() - stock,
        "history_gap": history - stock,
        "net_flow": exog["cp_plans_started"] - exog["cp_plans_ended"],
        "rate_gap": stock * (rate.median(axis=1).to_numpy()[:, None] / rate - 1),
    }


def _median_regression(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    from statsmodels.regression.quantile_regression import QuantReg

    with quiet_statsmodels():
        return np.asarray(QuantReg(z, x).fit(q=0.5, max_iter=2000).params, dtype=float)


def pooled_median_forecast(panel: dict, origin: object, h: int,
                           features: tuple[str, ...] = MEDIAN_FEATURES) -> pd.DataFrame:
    """Forecast every series in ``panel`` by one median regression of scaled changes.

    For each step ``k``, the change ``y[t+k] - y[t]`` divided by the series' scale at
    ``t`` (:func:`series_scale`, floored at 2% of the level and at 1) is regressed by least
    absolute deviations on :data:`MEDIAN_FEATURES` at ``t``, also divided by the scale, over
    every series and every ``t`` with ``t + k <= origin``. Minimising absolute scaled errors
    is minimising in-sample MASE. The interval is the point plus the scale at the origin times
    the empirical quantiles of the scaled residuals: it grows with the series' own volatility,
    so small and large councils get intervals of their own size. A series without features at
    the origin, or a step with fewer than :data:`POOLED_MIN_ROWS` training rows, gets the
    series' own ``naive`` forecast (``fitted`` says so).

    Parameters
    ----------
    panel
        Maps a series key to ``(y, exog)``; ``exog`` needs ``cp_plans_started``,
        ``cp_plans_ended`` and ``cp_rate_per_10k``.
    origin
        The forecast origin (a Period or a label such as ``2019``).
    h
        Steps ahead.
    features
        Names from :data:`MEDIAN_FEATURES`.

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`FORECAST_COLUMNS`, with ``model`` = ``pooled_median``.
    """
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    some = next(iter(panel.values()))[0]
    cut = origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq=some.index.freq)
    stock, exog = _wide(panel, cut, (*FLOW_COLUMNS, RATE_COLUMN))
    scale = np.maximum(series_scale(stock), np.maximum(0.02 * stock, 1.0)).to_numpy(dtype=float)
    table = _median_features(stock, exog)
    x_all = np.stack([table[f].to_numpy(dtype=float) / scale for f in features], axis=-1)
    y = stock.to_numpy(dtype=float)
    columns = ("point", "lower_95", "lower_80", "upper_80", "upper_95")
    values = {c: np.full((stock.shape[1], h), np.nan) for c in columns}
    usable = np.isfinite(x_all[-1]).all(axis=1) & np.isfinite(y[-1])
    for k in range(1, h + 1):
        z = (y[k:] - y[:-k]) / scale[:-k]
        x = x_all[:-k].reshape(-1, len(features))
        z = z.ravel()
        ok = np.isfinite(z) & np.isfinite(x).all(axis=1)
        if ok.sum() < POOLED_MIN_ROWS:
            continue
        beta = _median_regression(x[ok], z[ok])
        q = np.quantile(z[ok] - x[ok] @ beta, _QUANTILES)
        centre = x_all[-1][usable] @ beta
        for column, shift in zip(columns, (0.0, *q), strict=True):
            values[column][usable, k - 1] = np.maximum(
                y[-1][usable] + scale[-1][usable] * (centre + shift), 0.0)
    return _panel_frame(panel, stock, cut, h, values, "pooled_median")


def _panel_frame(panel: dict, stock: pd.DataFrame, cut: pd.Period, h: int,
                 values: dict[str, np.ndarray], model: str) -> pd.DataFrame:
    """Per-series forecast frames of a panel model; steps it could not fit get ``naive``."""
    columns = list(values)
    frames = []
    for j, key in enumerate(stock.columns):
        if np.isnan(stock.iloc[-1, j]):
            continue
        frame = pd.DataFrame({"step": np.arange(1, h + 1), "period": [cut + s for s in range(1, h + 1)],
                              **{c: values[c][j] for c in columns}})
        alone = frame["point"].isna().to_numpy()
        frame = frame.assign(fitted=np.where(alone, "naive", model), note=np.where(
            alone, f"{model}: no features at the origin or too few rows to pool; naive", ""))
        if alone.any():
            try:
                naive = fit_forecast("naive", panel[key][0].loc[:cut], h)
            except TooShort:
                frame = frame[~alone]
            else:
                frame.loc[alone, columns] = naive.loc[alone, columns].to_numpy()
        if not frame.empty:
            frames.append(frame.assign(model=model, series=key))
    if not frames:
        return pd.DataFrame(columns=["series", *FORECAST_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["series", *FORECAST_COLUMNS]]


# --- Combining forecasts across a panel -----------------------------------------------------

#: Members of ``combo_pooled`` (mean of their points and bounds), chosen on the annual
#: backtest at origins 2017-2019 only: the pooled regression with the two simplest benchmarks.
PANEL_COMBO = ("naive", "mean_k", "pooled")
#: Panel combinations: name -> members. ``combo_median`` (the annual default) averages the two
#: pooled regressions: chosen on origins 2016-2018 by the 80% interval score among the models
#: whose 80% intervals covered 75-85% there (``benchmarks/bench_forecast_annual.py``).
PANEL_COMBOS = {"combo_pooled": PANEL_COMBO, "combo_median": ("pooled_median", "pooled")}
_BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
#: Models fitted once across a panel of series: name -> forecast function.
PANEL_MODELS = {"pooled": pooled_forecast, "pooled_median": pooled_median_forecast}
#: Models ``cpstats forecast annual`` writes (besides ``default``).
ANNUAL_MODELS = ("naive", "drift", "mean_k", "ets", "arima", "sarimax", "stock_flow", "combo",
                 "pooled", "combo_pooled", "pooled_median", "combo_median")
#: The annual ``default``: chosen across all LAs at origins 2016-2018, horizons 1-3, by the
#: lowest mean 80% interval score among models whose 80% intervals covered 75-85% there
#: (:func:`cpstats.stats.backtest.choose_default` with ``criterion="interval"``;
#: ``benchmarks/bench_forecast_annual.py`` recomputes the choice and says if it no longer
#: matches), scored at origins 2019-2021.
ANNUAL_DEFAULT = "combo_median"
#: The last year of DfE figures the choice of :data:`ANNUAL_DEFAULT` used (origin 2018 + 3 years):
#: a forecast from an earlier year uses a default chosen on data after it, and says so.
ANNUAL_DEFAULT_DATA_TO = 2021


def panel_needs(models: tuple[str, ...] | list[str]) -> set[str]:
    """``models`` plus the members of any panel combination among them."""
    wanted = set(models)
    return wanted.union(*(PANEL_COMBOS[m] for m in wanted if m in PANEL_COMBOS))


def add_panel_combos(out: pd.DataFrame, models: set[str], keys: tuple[str, ...]) -> pd.DataFrame:
    """``out`` plus the panel combinations in ``models``, averaged per ``keys``."""
    combos = [combine(out, PANEL_COMBOS[m], m, keys=keys) for m in sorted(models)
              if m in PANEL_COMBOS]
    return pd.concat([out, *combos], ignore_index=True) if combos else out


def combine(forecasts: pd.DataFrame, members: tuple[str, ...], name: str,
            keys: tuple[str, ...] = ("series", "step")) -> pd.DataFrame:
    """The mean of ``members``' forecasts (points and interval bounds alike) per ``keys``.

    Averaging bounds (quantile averaging) keeps each bound a plausible quantile of
    the combined forecast. A key where only some members are present averages those
    present, and ``fitted`` lists them.

    Parameters
    ----------
    forecasts
        Stacked forecasts with ``model`` and the columns in ``keys``.
    members
        Model names to combine.
    name
        The combination's model name.
    keys
        Columns that identify one forecast (e.g. series, origin and step).
    """
    part = forecasts[forecasts["model"].isin(members)]
    if part.empty:
        return forecasts.iloc[:0]
    grouped = part.groupby(list(keys), sort=True)
    out = grouped[_BOUNDS].mean()
    firsts = [c for c in forecasts.columns if c not in (*keys, *_BOUNDS, "model", "fitted", "note")]
    out = out.join(grouped[firsts].first()) if firsts else out
    used = grouped["model"].agg(lambda m: "mean(" + ",".join(sorted(m)) + ")")
    out = out.assign(model=name, fitted=used).reset_index()
    if "note" in forecasts.columns:
        out = out.assign(note="")
    return out[[c for c in forecasts.columns if c in out.columns]]


def fill_too_short(out: pd.DataFrame, pooled: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Series too short for a model get the pooled model's forecast under that model's name."""
    naive_pooled = pooled[pooled["fitted"] == "naive_pooled"]
    have = set(zip(out["series"], out["model"], strict=True))
    fills = [naive_pooled[naive_pooled["series"] == key].assign(model=model)
             for key in naive_pooled["series"].unique() for model in models
             if (key, model) not in have]
    if "note" in pooled.columns:
        fills = [f.assign(note=f"{f['model'].iloc[0]}: series too short; naive with the pooled "
                               "spread of changes") for f in fills]
    return pd.concat(fills, ignore_index=True) if fills else pooled.iloc[:0]


def _fit_series(task: tuple) -> pd.DataFrame:
    key, y, x, models, cut, h = task
    train = y.loc[:cut]
    if train.empty or pd.isna(train.iloc[-1]):
        return pd.DataFrame(columns=["series", *FORECAST_COLUMNS])
    return fit_many(models, train, h, None if x is None else x.loc[:cut]).assign(series=key)


def forecast_panel(panel: dict, models: tuple[str, ...] | list[str], origin: object,
                   h: int, progress: bool = False, jobs: int = 1) -> pd.DataFrame:
    """Forecasts of every series in ``panel`` from ``origin`` by every model in ``models``.

    ``models`` may include the panel models ``pooled`` and ``combo_pooled`` besides
    any of :data:`MODELS`. Each series is cut at the origin before fitting; a
    series with no value at the origin is left out. ``progress`` shows a progress
    bar on stderr (for the command line, not for notebooks); ``jobs`` > 1 fits the series
    in that many processes.

    Returns
    -------
    pandas.DataFrame
        ``series`` plus :data:`FORECAST_COLUMNS`, sorted by series, model and step.
    """
    wanted = set(models)
    needed = panel_needs(models)
    single = [m for m in MODELS if m in needed]
    some = next(iter(panel.values()))[0]
    cut = origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq=some.index.freq)
    tasks = [(key, *panel[key], tuple(single), cut, h) for key in sorted(panel, key=str)]
    with ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else nullcontext() as pool:
        results = pool.map(_fit_series, tasks, chunksize=4) if pool else map(_fit_series, tasks)
        if progress:
            from tqdm import tqdm
            results = tqdm(results, total=len(tasks), desc="forecast", unit="LA", file=sys.stderr)
        frames = list(results)
    pooled = pooled_forecast(panel, cut, h)
    others = [PANEL_MODELS[m](panel, cut, h) for m in sorted(needed)
              if m in PANEL_MODELS and m != "pooled"]
    frames = [f for f in [*frames, *others] if not f.empty]
    out = pd.concat([*frames, pooled], ignore_index=True)
    out = pd.concat([out, fill_too_short(out, pooled, single)], ignore_index=True)
    out = add_panel_combos(out, wanted, ("series", "step"))
    out = out[out["model"].isin(wanted)]
    return out.sort_values(["series", "model", "step"], kind="stable", ignore_index=True)[
        ["series", *FORECAST_COLUMNS]]


# --- Series from the facts table ------------------------------------------------------------

#: The stock forecast by ``cpstats forecast annual`` and the measures fed to its models.
ANNUAL_MEASURES = ("cp_plans_at_31_march", *FLOW_COLUMNS, *LEADING_INDICATORS, "cp_rate_per_10k")
_YEAR_PERIOD = r"^\d{4}-\d{2}$"
_MONTH_PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


def _published(facts: pd.DataFrame, measures: tuple[str, ...], pattern: str) -> pd.DataFrame:
    """Local-authority totals of ``measures`` as published by DfE, periods matching ``pattern``."""
    keep = (
        (facts["geography_level"] == "local_authority")
        & (facts["breakdown"] == "total")
        & (facts["source"] == "dfe")
        & facts["measure"].isin(list(measures))
        & facts["period"].str.match(pattern)
    )
    return facts.loc[keep.fillna(False), ["geography_code", "geography_name", "period", "measure",
                                          "value"]]


def la_names(facts: pd.DataFrame) -> dict[str, str]:
    """LA code -> name (the name on its latest period) from a facts table."""
    las = facts[facts["geography_level"] == "local_authority"].sort_values("period", kind="stable")
    return dict(zip(las["geography_code"], las["geography_name"], strict=True))


def annual_panel(facts: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.DataFrame]]:
    """Each LA's children on plans at 31 March, with its flows and leading indicators.

    Parameters
    ----------
    facts
        A facts table holding DfE's published LA figures (e.g. from
        :func:`cpstats.io.dfe.read_release`).

    Returns
    -------
    dict
        LA code -> ``(y, exog)``: ``y`` is ``cp_plans_at_31_march`` on a ``Y-MAR``
        PeriodIndex (2013 = year ending 31 March 2013) covering every year in the
        release, missing where not published; ``exog`` holds ``cp_plans_started``,
        ``cp_plans_ended``, ``icpcs``, ``s47_enquiries`` and ``referrals`` on the same
        index. Ready for :func:`forecast_panel` and the backtests.
    """
    rows = _published(facts, ANNUAL_MEASURES, _YEAR_PERIOD)
    year = rows["period"].str.slice(0, 4).astype(int) + 1
    wide = rows.assign(year=year).pivot_table(index=["geography_code", "year"], columns="measure",
                                               values="value", aggfunc="first")
    wide = wide.reindex(columns=list(ANNUAL_MEASURES))
    years = pd.period_range(str(year.min()), str(year.max()), freq="Y-MAR")
    panel = {}
    for code, table in wide.groupby(level="geography_code", sort=True):
        table = table.droplevel("geography_code")
        table.index = pd.PeriodIndex([pd.Period(str(y), freq="Y-MAR") for y in table.index])
        table = table.reindex(years)
        panel[str(code)] = (table[ANNUAL_MEASURES[0]].rename(None), table[list(ANNUAL_MEASURES[1:])])
    return panel


def monthly_series(facts: pd.DataFrame, la_code: str,
                   measure: str = "referrals_by_month") -> pd.Series:
    """One LA's published monthly series (DfE's referrals by month) on a monthly PeriodIndex.

    Months the release lacks are missing (NaN), so a gap breaks the series for the models.
    """
    rows = _published(facts, (measure,), _MONTH_PERIOD)
    rows = rows[rows["geography_code"] == str(la_code)]
    if rows.empty:
        return pd.Series(dtype=float, index=pd.PeriodIndex([], freq="M"))
    series = pd.Series(rows["value"].to_numpy(dtype=float),
                       index=pd.PeriodIndex(rows["period"].tolist(), freq="M")).sort_index()
    series = series[~series.index.duplicated(keep="first")]
    return series.reindex(pd.period_range(series.index.min(), series.index.max(), freq="M"))


# --- Next quarter from child-level records: a stock-flow model with a duration hazard --------

#: Width of a duration band in months; plans at 24 months or more share the last band.
BAND_MONTHS = 3
N_BANDS = 9
#: Quarters of history the hazards and the expected starts are estimated from.
HAZARD_WINDOW = 8
STARTS_WINDOW = 4


def _quarter_end(period: pd.Period) -> pd.Timestamp:
    return period.end_time.normalize()


def _bands(start: pd.Series, day: pd.Timestamp) -> np.ndarray:
    """Duration band (0..N_BANDS-1) of each plan on ``day``: months on plan // BAND_MONTHS."""
    months = (day.year - start.dt.year) * 12 + (day.month - start.dt.month)
    return np.minimum(months.to_numpy(dtype=int) // BAND_MONTHS, N_BANDS - 1)


def _as_known_at(plans: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Plans as a return made on ``day`` would show them: no later starts, no later ends."""
    known = plans[plans["start_date"] <= day]
    return known.assign(end_date=known["end_date"].where(known["end_date"] <= day))


def family_units(plans: pd.DataFrame) -> pd.DataFrame:
    """Plans grouped into sibling groups: one row per group of plans with the same CIN
    episode start (``cin_id``, the referral date) and the same plan start date.

    The CIN Census has no family identifier, but siblings conferenced together share the
    referral, the conference and the plan's dates, and their plans usually end together. A
    group's plan is open until its last member's ends. Without ``cin_id`` each plan is its own
    group.

    Returns
    -------
    pandas.DataFrame
        ``start_date``, ``end_date`` (missing while any member is open) and ``size``.
    """
    if "cin_id" not in plans.columns:
        return plans[["start_date", "end_date"]].assign(size=1)
    frame = plans[["cin_id", "start_date", "end_date"]].assign(open=plans["end_date"].isna())
    units = frame.groupby(["cin_id", "start_date"], sort=False).agg(
        end_date=("end_date", "max"), still_open=("open", "any"), size=("open", "size"))
    units = units.reset_index()
    return units.assign(end_date=units["end_date"].where(~units["still_open"]))[
        ["start_date", "end_date", "size"]]


def _open_on(plans: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    from cpstats.measures import open_at

    return open_at(plans, day)


def duration_hazards(plans: pd.DataFrame, origin: pd.Period,
                     window: int = HAZARD_WINDOW) -> pd.DataFrame:
    """Quarterly end hazard by time on plan, from the ``window`` quarters before ``origin``.

    For each quarter end ``t`` with ``t + 1 quarter <= origin``, the sibling groups
    (:func:`family_units`) on plans at ``t`` in each duration band and how many of them
    ended by the next quarter end.

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band`` (0 = under 3 months on plan), ``at_risk``, ``ended`` (groups),
        ``hazard`` (ended / at_risk; the pooled hazard of all bands where a band has no
        plans at risk).
    """
    known = family_units(_as_known_at(plans, _quarter_end(origin)))
    at_risk = np.zeros(N_BANDS)
    ended = np.zeros(N_BANDS)
    for back in range(1, window + 1):  # a loop over quarters, not over records
        t = origin - back
        day, next_day = _quarter_end(t), _quarter_end(t + 1)
        open_now = known[_open_on(known, day)]
        band = _bands(open_now["start_date"], day)
        gone = (open_now["end_date"] <= next_day).to_numpy(dtype=bool)
        at_risk += np.bincount(band, minlength=N_BANDS)
        ended += np.bincount(band, weights=gone, minlength=N_BANDS)
    pooled = ended.sum() / at_risk.sum() if at_risk.sum() else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, ended / at_risk, pooled)
    return pd.DataFrame({"band": np.arange(N_BANDS), "at_risk": at_risk.astype(int),
                         "ended": ended.astype(int), "hazard": hazard})


def _starts_by_quarter(plans: pd.DataFrame, origin: pd.Period, window: int) -> tuple[np.ndarray, float]:
    """Plans started in each of the last ``window`` quarters, and the share of them that
    ended within the quarter they started in."""
    counts, same = [], []
    for back in range(window):
        q = origin - back
        first, last = q.start_time.normalize(), _quarter_end(q)
        started = plans[(plans["start_date"] >= first) & (plans["start_date"] <= last)]
        counts.append(len(started))
        same.append(int((started["end_date"] <= last).sum()))
    total = sum(counts)
    return np.array(counts[::-1], dtype=float), (sum(same) / total if total else 0.0)


def _expected_starts(starts: np.ndarray, h: int, trend: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean starts for each quarter ahead (the recent mean, or its straight-line trend), the
    standard error of that mean, and the variance of starts about it."""
    n = starts.size
    if not trend or n < 3:
        var = float(starts.var(ddof=1)) if n > 1 else 0.0
        return (np.full(h, max(starts.mean(), 0.0)), np.full(h, np.sqrt(var / max(n, 1))), var)
    x = np.arange(n)
    slope, intercept = np.polyfit(x, starts, 1)
    var = float(np.sum((starts - intercept - slope * x) ** 2) / (n - 2))
    ahead = n - 1 + np.arange(1, h + 1)
    se = np.sqrt(var * (1 / n + (ahead - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)))
    return np.maximum(intercept + slope * ahead, 0.0), se, var


def _draw_starts(rng: np.random.Generator, means: np.ndarray, var: float) -> np.ndarray:
    """Starts in a quarter for each path (``means`` per path): negative binomial with the
    observed variance-to-mean ratio when recent starts varied more than Poisson."""
    average = float(means.mean())
    if var > average > 0:
        p = average / var
        return rng.negative_binomial(np.maximum(means, 1e-9) * p / (1 - p), p)
    return rng.poisson(means)


def hazard_forecast(plans: pd.DataFrame, origin: object, h: int = 1, n_sims: int = 4000,
                    seed: int = 20170331, trend: bool = True,
                    starts_factor: float = 1.0) -> pd.DataFrame:
    """Children on plans at the next ``h`` quarter ends, simulated from the plans open now.

    The model works on sibling groups (:func:`family_units`), since siblings start and end
    their plans together: simulating each child alone would make the interval too narrow.
    Each group on a plan at the origin ends in a quarter with the hazard of its duration band
    (:func:`duration_hazards`) and otherwise moves one band on. New groups start at the
    straight-line trend of the last 4 quarters' group starts, with the sizes of the groups
    that started in the last 8 quarters (``trend=False``: their mean; the
    trend was chosen on the synthetic county's early origins), with negative-binomial
    spread when starts vary more than Poisson; a share of them ends in the quarter they
    start (as in the last 4 quarters). Each simulated path also draws its own hazards and
    expected starts from their estimation uncertainty. The point is the mean of the
    simulated stocks, the bounds their quantiles. Only plans started by the origin, and
    ends on or before it, are used.

    Parameters
    ----------
    plans
        The ``cp_plans`` table of a :class:`cpstats.childlevel.CinData`.
    origin
        The last quarter the model may see (``Q-MAR`` Period, or a label like ``2017Q4``
        meaning January-March 2017).
    h
        Quarters ahead.
    n_sims, seed
        Simulated paths and the random seed (results are reproducible).
    trend
        Extrapolate the recent trend in starts (default) rather than their mean.
    starts_factor
        A scenario: expected new plans multiplied by this factor from the first quarter ahead
        (1.1 for "referrals rise 10%", taking plans to start in proportion to referrals, as the
        share of referrals reaching a plan is steady from year to year).

    Returns
    -------
    pandas.DataFrame
        :data:`FORECAST_COLUMNS` with ``model`` = ``stock_flow_hazard``.
    """
    if h < 1:
        raise ValueError(f"horizon must be at least 1, got {h}")
    cut = origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq="Q-MAR")
    day = _quarter_end(cut)
    known = family_units(_as_known_at(plans, day))
    table = duration_hazards(plans, cut)
    starts, ended_same_quarter = _starts_by_quarter(known, cut, STARTS_WINDOW)
    open_now = known[_open_on(known, day)]
    recent = known[known["start_date"] > _quarter_end(cut - HAZARD_WINDOW)]
    sizes = np.union1d(open_now["size"], recent["size"]).astype(int)
    # Open groups by size (rows) and band (columns); new groups take the recent mix of sizes.
    counts = np.zeros((sizes.size, N_BANDS), dtype=int)
    np.add.at(counts, (np.searchsorted(sizes, open_now["size"]), _bands(open_now["start_date"], day)), 1)
    size_mix = np.bincount(np.searchsorted(sizes, recent["size"]), minlength=sizes.size) / max(len(recent), 1)
    rng = np.random.default_rng(seed)
    # Each path draws its own hazards (Beta around the observed ends / at risk) and its own
    # expected starts (normal around the trend, by its standard error): the interval then
    # carries the uncertainty of the estimates as well as the chance of ends and starts.
    observed = table["at_risk"].to_numpy() > 0
    ended, at_risk = table["ended"].to_numpy(), table["at_risk"].to_numpy()
    hazards = np.tile(table["hazard"].to_numpy(), (n_sims, 1))
    hazards[:, observed] = rng.beta(ended[observed] + 0.5, at_risk[observed] - ended[observed] + 0.5,
                                    size=(n_sims, int(observed.sum())))
    if starts_factor < 0:
        raise ValueError(f"starts_factor must be at least 0, got {starts_factor}")
    mean, se, var = (v * starts_factor for v in _expected_starts(starts, h, trend))
    state = np.tile(counts, (n_sims, 1, 1))
    stocks = np.empty((n_sims, h))
    for step in range(h):  # a loop over quarters ahead; every group and path is vectorised
        survivors = rng.binomial(state, 1 - hazards[:, None, :])
        aged = np.zeros_like(survivors)
        aged[:, :, 1:] = survivors[:, :, :-1]
        aged[:, :, -1] += survivors[:, :, -1]
        means = np.maximum(mean[step] + se[step] * rng.standard_normal(n_sims), 0.0)
        new = rng.binomial(_draw_starts(rng, means, var), 1 - ended_same_quarter)
        aged[:, :, 0] = rng.multinomial(new, size_mix) if size_mix.sum() else 0
        state = aged
        stocks[:, step] = (state.sum(axis=2) * sizes).sum(axis=1)
    q = np.quantile(stocks, [0.025, 0.10, 0.90, 0.975], axis=0)
    frame = pd.DataFrame({
        "step": np.arange(1, h + 1), "period": [cut + s for s in range(1, h + 1)],
        "point": stocks.mean(axis=0), "lower_80": q[1], "upper_80": q[2],
        "lower_95": q[0], "upper_95": q[3],
    })
    return frame.assign(model="stock_flow_hazard", fitted="stock_flow_hazard", note="")[
        list(FORECAST_COLUMNS)]


def chair_capacity(forecast: pd.DataFrame, fte: float, target: float) -> pd.DataFrame:
    """What a forecast of children on plans means for conference chairs.

    ``fte`` and ``target`` are the LA's own service figures (its report, or a ``--service``
    settings file): there is no default, since they differ from one council to the next.

    Parameters
    ----------
    forecast
        Rows with ``point`` and interval bounds (children on plans).
    fte
        Full-time-equivalent chairs in post.
    target
        Children per full-time chair the service aims for.

    Returns
    -------
    pandas.DataFrame
        ``forecast`` plus ``per_fte`` (children per FTE chair at the point forecast),
        ``per_fte_lower_80``/``per_fte_upper_80``, ``fte_needed`` (FTE to meet the target at
        the point), ``fte_needed_upper_80`` (to meet it at the upper 80% bound) and
        ``fte_gap`` (``fte_needed`` minus ``fte``; positive = more chairs needed).
    """
    if fte <= 0 or target <= 0:
        raise ValueError("fte and target must be positive")
    return forecast.assign(
        per_fte=forecast["point"] / fte,
        per_fte_lower_80=forecast["lower_80"] / fte,
        per_fte_upper_80=forecast["upper_80"] / fte,
        fte_needed=forecast["point"] / target,
        fte_needed_upper_80=forecast["upper_80"] / target,
        fte_gap=forecast["point"] / target - fte,
    )


#: Quarterly flows fed to the models next to the stock (measure names from cpstats.measures).
QUARTERLY_EXOG = (*FLOW_COLUMNS, *LEADING_INDICATORS)


def quarterly_series(cin: object, first_year: int, last_year: int | None = None
                     ) -> tuple[pd.Series, pd.DataFrame]:
    """Children on plans at each quarter end, with the quarter's flows, from child-level data.

    Parameters
    ----------
    cin
        A :class:`cpstats.childlevel.CinData`.
    first_year, last_year
        Years ending 31 March to cover (``last_year`` defaults to the reference date's
        year). Start at the first year the returns cover in full: earlier quarters would
        miss children whose plans ended before the first return.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The stock (``cp_plans_at_end``, distinct children, as :mod:`cpstats.measures`
        counts it) on a ``Q-MAR`` PeriodIndex (``2017Q4`` = January-March 2017), and
        :data:`QUARTERLY_EXOG` on the same index.
    """
    from cpstats import measures
    from cpstats.periods import quarter_of

    last = last_year if last_year is not None else quarter_of(pd.Timestamp(cin.reference_date))[0]
    frames = [measures.series_frame(measures.series_facts(cin, year, freq="quarter"))
              for year in range(first_year, last + 1)]
    wide = pd.concat(frames)
    index = pd.PeriodIndex([pd.Period(f"{int(p[:4]) + 1}Q{p[-1]}", freq="Q-MAR") for p in wide.index])
    wide.index = index
    return wide["cp_plans_at_end"].astype(float).rename(None), wide.reindex(
        columns=list(QUARTERLY_EXOG)).astype(float)


def to_quarters(monthly: pd.Series) -> pd.Series:
    """Financial-quarter totals of a monthly series; a quarter missing any month is missing."""
    quarters = monthly.index.asfreq("Q-MAR")
    totals = monthly.groupby(quarters).sum(min_count=3)
    counts = monthly.groupby(quarters).count()
    return totals.where(counts == 3)
