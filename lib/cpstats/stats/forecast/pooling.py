"""What the models pooled over every LA share: the panel as period x series frames cut at an
origin, each series' MASE scale, bounds from the empirical quantiles of scaled errors, regions,
and the per-series forecast frame."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from cpstats.stats.forecast.base import FLOW_COLUMNS, FORECAST_COLUMNS, TooShort
from cpstats.stats.forecast.single import fit_forecast

#: Quantiles behind the 95% and 80% bounds, in the order lower_95, lower_80, upper_80, upper_95.
QUANTILES = (0.025, 0.10, 0.90, 0.975)
#: Bound columns in the order of :data:`QUANTILES`, after the point.
BOUND_COLUMNS = ("point", "lower_95", "lower_80", "upper_80", "upper_95")
#: Fewer training rows (or past errors) than this and a pooled model falls back to ``naive``.
POOLED_MIN_ROWS = 30


def period_of(panel: dict, origin: object) -> pd.Period:
    """``origin`` as a Period of the panel's frequency (a Period or a label such as ``2019``)."""
    if isinstance(origin, pd.Period):
        return origin
    some = next(iter(panel.values()))[0]
    return pd.Period(str(origin), freq=some.index.freq)


def floored_scale(stock: pd.DataFrame) -> np.ndarray:
    """:func:`series_scale` floored at 2% of the level and at 1 (a flat history would give 0)."""
    return np.maximum(series_scale(stock), np.maximum(0.02 * stock, 1.0)).to_numpy(dtype=float)


def empirical_bounds(paths: np.ndarray, y: np.ndarray, scale: np.ndarray, k: int
                     ) -> dict[str, np.ndarray] | None:
    """Point and bounds at the origin (the last row) from a model's ``k``-step forecasts made at
    every earlier period.

    ``paths[t]`` is the forecast made at ``t`` for ``t + k``; the errors of those with ``t + k``
    at or before the origin, divided by the series' scale at ``t``, give the empirical
    quantiles, so each series' interval has its own volatility's width. ``None`` with fewer
    than :data:`POOLED_MIN_ROWS` errors.
    """
    z = ((y[k:] - paths[:-k]) / scale[:-k]).ravel()
    z = z[np.isfinite(z)]
    if z.size < POOLED_MIN_ROWS:
        return None
    q = np.quantile(z, QUANTILES)
    return {c: np.maximum(paths[-1] + scale[-1] * shift, 0.0)
            for c, shift in zip(BOUND_COLUMNS, (0.0, *q), strict=True)}


@functools.cache
def _regions() -> dict[str, str]:
    from cpstats.geography import all_las

    table = all_las()
    return dict(zip(table["old_la_code"].astype(str), table["region_code"].astype(str), strict=True))


def regions(keys: pd.Index) -> np.ndarray:
    """Each series key's region code (``"unknown"`` for a key that is not an LA code)."""
    known = _regions()
    return np.array([known.get(str(k), "unknown") for k in keys], dtype=object)


def log_ratio(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a.to_numpy(dtype=float) / b.to_numpy(dtype=float)
        out = np.log(np.where(ratio > 0, ratio, np.nan))
    return pd.DataFrame(out, index=a.index, columns=a.columns)


def wide(panel: dict, origin: pd.Period, columns: tuple[str, ...] = (*FLOW_COLUMNS, "icpcs")
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


def run_mean(values: pd.DataFrame, stock: pd.DataFrame) -> pd.DataFrame:
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
    return run_mean(stock.diff().abs(), stock)


def panel_frame(panel: dict, stock: pd.DataFrame, cut: pd.Period, h: int,
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
