"""Models fitted once across many series (every LA): ``pooled``, ``pooled_median`` and their
combinations, and :func:`forecast_panel`, which runs every annual model on a panel from an
origin (the interface the annual command, the theme and the backtest call)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpstats.stats.forecast.base import (
    FLOW_COLUMNS,
    FORECAST_COLUMNS,
    K_RECENT,
    TooShort,
    quiet_statsmodels,
)
from cpstats.stats.forecast.flows import flows_forecast
from cpstats.stats.forecast.pooling import (
    POOLED_MIN_ROWS,
    QUANTILES,
    log_ratio,
    panel_frame,
    run_mean,
    series_scale,
    wide,
)
from cpstats.stats.forecast.single import fit_forecast
from cpstats.stats.forecast.statespace import local_level_forecast

# --- A pooled model across many series (every LA) ------------------------------------------

#: Features the pooled model can use, each at the origin: last year's growth, the recent
#: mean over the current stock (pull back towards it), the balance of starts over ends,
#: ICPCs per plan started (the pipeline ahead of starts).
POOLED_CANDIDATES = ("growth", "reversion", "flow_balance", "icpc_pressure")
#: The features used, with no intercept: chosen on the annual backtest at origins
#: 2017-2019 only (an intercept carried the national trend of the training years forward,
#: biasing later forecasts upwards; growth and the ICPC pipeline added nothing there).
POOLED_FEATURES = ("reversion", "flow_balance")


def _features(stock: pd.DataFrame, exog: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    recent = stock.rolling(K_RECENT).mean()
    return {
        "growth": log_ratio(stock, stock.shift(1)),
        "reversion": log_ratio(recent, stock),
        "flow_balance": log_ratio(exog["cp_plans_started"], exog["cp_plans_ended"]),
        "icpc_pressure": log_ratio(exog["icpcs"], exog["cp_plans_started"]),
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
    stock, exog = wide(panel, cut)
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
        target = _stack(log_ratio(stock.shift(-k), stock))
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


def _median_features(stock: pd.DataFrame, exog: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    rate = exog[RATE_COLUMN].where(exog[RATE_COLUMN] > 0)
    history = run_mean(stock, stock)
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
    stock, exog = wide(panel, cut, (*FLOW_COLUMNS, RATE_COLUMN))
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
        q = np.quantile(z[ok] - x[ok] @ beta, QUANTILES)
        centre = x_all[-1][usable] @ beta
        for column, shift in zip(columns, (0.0, *q), strict=True):
            values[column][usable, k - 1] = np.maximum(
                y[-1][usable] + scale[-1][usable] * (centre + shift), 0.0)
    return panel_frame(panel, stock, cut, h, values, "pooled_median")


# --- Combining forecasts across a panel -----------------------------------------------------

#: Members of ``combo_pooled`` (mean of their points and bounds), chosen on the annual
#: backtest at origins 2017-2019 only: the pooled regression with the two simplest benchmarks.
PANEL_COMBO = ("naive", "mean_k", "pooled")
#: Panel combinations: name -> members. ``combo_median`` (the default before ``combo_flows``)
#: averages the two pooled regressions. The rule (``benchmarks/bench_forecast_annual.py``):
#: on origins 2016-2018, the best 80% interval score among models covering 75-85% there.
#: The last four (issue 13) were fixed before any of them was scored: the flows and state-space
#: models together, and each (and both) with the two pooled regressions.
PANEL_COMBOS = {"combo_pooled": PANEL_COMBO, "combo_median": ("pooled_median", "pooled"),
                "combo_rates": ("flows", "local_level"),
                "combo_flows": ("flows", "pooled_median", "pooled"),
                "combo_state": ("local_level", "pooled_median", "pooled"),
                "combo_all": ("flows", "local_level", "pooled_median", "pooled")}
_BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
#: Models fitted once across a panel of series: name -> forecast function.
PANEL_MODELS = {"pooled": pooled_forecast, "pooled_median": pooled_median_forecast,
                "flows": flows_forecast, "local_level": local_level_forecast}
#: Models ``cpstats forecast annual`` writes (besides ``default``).
ANNUAL_MODELS = ("naive", "drift", "mean_k", "ets", "ets_damped", "arima", "sarimax", "stock_flow",
                 "combo", "pooled", "combo_pooled", "pooled_median", "combo_median", "flows",
                 "local_level", "combo_rates", "combo_flows", "combo_state", "combo_all")
#: The annual ``default``: chosen across all LAs at origins 2016-2018, horizons 1-3, by the
#: lowest mean 80% interval score among models whose 80% intervals covered 75-85% there
#: (:func:`cpstats.stats.backtest.choose_default` with ``criterion="interval"``;
#: ``benchmarks/bench_forecast_annual.py`` recomputes the choice and says if it no longer
#: matches), scored at origins 2019-2021.
ANNUAL_DEFAULT = "combo_flows"
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
