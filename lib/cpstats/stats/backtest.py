"""Rolling-origin backtests: how well each forecast model would have done.

For every origin the model is fitted on the series up to and including that
origin only (``y.loc[:origin]``), forecasts ``h`` steps, and is scored against
what happened. Scores by model and horizon:

- MAE, and MASE: each absolute error divided by the in-sample mean absolute
  one-step naive error of the training series (lag ``scale_lag``: 1, or the
  season for seasonal series), so series of different sizes can be averaged;
  MASE < 1 beats the in-sample naive forecast.
- bias: mean of forecast minus outcome (positive = forecasts too high).
- coverage of the 80% and 95% prediction intervals.

The ``default`` model is chosen on early origins only (:func:`choose_default`)
and reported on later ones, so its reported accuracy is out of sample.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from cpstats.stats.forecast import (
    PANEL_COMBO,
    combine,
    fit_many,
    hazard_forecast,
    pooled_forecast,
)

#: Columns of a backtest frame (plus ``series`` for a panel).
BACKTEST_COLUMNS = (
    "origin", "model", "fitted", "step", "period", "actual", "point",
    "lower_80", "upper_80", "lower_95", "upper_95", "error", "scale",
)


def _as_period(origin: object, index: pd.PeriodIndex) -> pd.Period:
    return origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq=index.freq)


def naive_scale(y: pd.Series, lag: int = 1) -> float:
    """In-sample mean absolute error of the lag-``lag`` naive forecast (the MASE denominator).

    Uses the last unbroken run of values, as the models do. NaN when there are
    fewer than ``lag + 1`` points; a flat series gives 0 (its MASE is then undefined).
    """
    values = y.astype(float).to_numpy()
    missing = np.flatnonzero(np.isnan(values))
    run = values[missing[-1] + 1:] if missing.size else values
    if run.size <= lag:
        return float("nan")
    return float(np.mean(np.abs(run[lag:] - run[:-lag])))


def rolling_origin(y: pd.Series, models: Sequence[str], origins: Iterable[object], h: int,
                   exog: pd.DataFrame | None = None, season: int | None = None,
                   scale_lag: int = 1) -> pd.DataFrame:
    """Backtest ``models`` on one series from each origin.

    Parameters
    ----------
    y
        The whole series (PeriodIndex); each fit sees only ``y.loc[:origin]``.
    models
        Model names (see :data:`cpstats.stats.forecast.MODELS`).
    origins
        Forecast origins, as Periods or labels of ``y``'s frequency (e.g. ``2017``).
    h
        Steps ahead from each origin.
    exog
        Leading indicators and flows on ``y``'s index; truncated at each origin too.
    season, scale_lag
        Season length for the models, and the naive lag for the MASE scale.

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_COLUMNS`, one row per origin, model and step; ``actual`` is
        NaN where the outcome is not yet known (those rows are not scored).
    """
    frames = []
    for origin in origins:
        cut = _as_period(origin, y.index)
        train = y.loc[:cut]
        if train.empty or pd.isna(train.iloc[-1]):
            continue
        x = None if exog is None else exog.loc[:cut]
        forecasts = fit_many(models, train, h, x, season)
        if forecasts.empty:
            continue
        actual = y.reindex(pd.PeriodIndex(forecasts["period"])).to_numpy(dtype=float)
        frames.append(forecasts.drop(columns="note").assign(
            origin=cut, actual=actual, error=forecasts["point"] - actual,
            scale=naive_scale(train, scale_lag)))
    if not frames:
        return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(BACKTEST_COLUMNS)]


def _one(args: tuple) -> pd.DataFrame:
    key, y, exog, models, origins, h, season, scale_lag = args
    return rolling_origin(y, models, origins, h, exog, season, scale_lag).assign(series=key)


def _pooled_backtest(panel: Mapping[Hashable, tuple[pd.Series, pd.DataFrame | None]],
                     origins: Sequence[object], h: int, scale_lag: int) -> pd.DataFrame:
    """Backtest rows of the pooled model: one pooled fit per origin, on data up to it."""
    frames = []
    for origin in origins:
        forecasts = pooled_forecast(dict(panel), origin, h)
        if forecasts.empty:
            continue
        cut = forecasts["period"].iloc[0] - 1
        actual = np.array([panel[k][0].get(p, np.nan) for k, p in
                           zip(forecasts["series"], forecasts["period"], strict=True)], dtype=float)
        scales = {k: naive_scale(panel[k][0].loc[:cut], scale_lag) for k in forecasts["series"].unique()}
        frames.append(forecasts.drop(columns="note").assign(
            origin=cut, actual=actual, error=forecasts["point"] - actual,
            scale=forecasts["series"].map(scales)))
    if not frames:
        return pd.DataFrame(columns=["series", *BACKTEST_COLUMNS])
    return pd.concat(frames, ignore_index=True)[["series", *BACKTEST_COLUMNS]]


def backtest_panel(panel: Mapping[Hashable, tuple[pd.Series, pd.DataFrame | None]],
                   models: Sequence[str], origins: Sequence[object], h: int,
                   season: int | None = None, scale_lag: int = 1,
                   jobs: int | None = 1, progress: bool = False) -> pd.DataFrame:
    """:func:`rolling_origin` for many series (e.g. every LA), in ``jobs`` processes.

    ``panel`` maps a key (e.g. LA code) to ``(y, exog)``. ``jobs=None`` uses every
    core this process may run on. Returns the stacked backtest with a ``series`` column,
    sorted by series, origin, model and step.
    """
    wanted = set(models)
    needed = wanted | (set(PANEL_COMBO) if "combo_pooled" in wanted else set())
    single = tuple(m for m in models if m not in ("pooled", "combo_pooled"))
    single += tuple(sorted(m for m in needed - set(single) if m not in ("pooled", "combo_pooled")))
    tasks = [(key, y, exog, single, tuple(origins), h, season, scale_lag)
             for key, (y, exog) in sorted(panel.items(), key=lambda kv: str(kv[0]))]
    workers = len(os.sched_getaffinity(0)) if jobs is None else max(int(jobs), 1)
    if workers == 1:
        results = map(_one, tasks)
        if progress:
            from tqdm import tqdm
            results = tqdm(results, total=len(tasks), desc="backtest", unit="series")
        frames = list(results)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_one, tasks, chunksize=max(len(tasks) // (workers * 8), 1))
            if progress:
                from tqdm import tqdm
                results = tqdm(results, total=len(tasks), desc="backtest", unit="series")
            frames = list(results)
    if "pooled" in needed:
        frames.append(_pooled_backtest(panel, origins, h, scale_lag))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["series", *BACKTEST_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    if "combo_pooled" in wanted:
        combo = combine(out, PANEL_COMBO, "combo_pooled", keys=("series", "origin", "step"))
        out = pd.concat([out, combo.assign(error=combo["point"] - combo["actual"])],
                        ignore_index=True)
    out = out[out["model"].isin(wanted)]
    return out.sort_values(["series", "origin", "model", "step"], kind="stable",
                           ignore_index=True)


def score(backtest: pd.DataFrame, by: Sequence[str] = ("model", "step")) -> pd.DataFrame:
    """Accuracy by ``by``: n, MAE, mean and median MASE, bias and interval coverage.

    Only rows with a known outcome and a positive MASE scale are scored.
    """
    known = backtest[backtest["actual"].notna() & (backtest["scale"] > 0)]
    scored = known.assign(
        abs_error=known["error"].abs(),
        scaled=known["error"].abs() / known["scale"],
        in_80=known["actual"].between(known["lower_80"], known["upper_80"]),
        in_95=known["actual"].between(known["lower_95"], known["upper_95"]),
    )
    grouped = scored.groupby(list(by), sort=True, observed=True)
    return grouped.agg(
        n=("scaled", "size"),
        mae=("abs_error", "mean"),
        mase=("scaled", "mean"),
        median_mase=("scaled", "median"),
        bias=("error", "mean"),
        coverage_80=("in_80", "mean"),
        coverage_95=("in_95", "mean"),
    ).reset_index()


def choose_default(backtest: pd.DataFrame, origins: Iterable[object],
                   baseline: str = "naive", fallback: str = "naive") -> tuple[str, str]:
    """The model with the lowest mean MASE (averaged over horizons) on ``origins`` only.

    If no model beats ``baseline`` there, the default is ``fallback`` (naive or
    mean_k) and the note says so.

    Returns
    -------
    (str, str)
        The chosen model and a sentence saying how it was chosen.
    """
    wanted = {str(o) for o in origins}
    early = backtest[backtest["origin"].astype(str).isin(wanted)]
    if early.empty:
        raise ValueError(f"no backtest rows at origins {sorted(wanted)}")
    by_step = score(early, by=("model", "step"))
    overall = by_step.groupby("model")["mase"].mean().sort_values(kind="stable")
    best, best_mase = overall.index[0], float(overall.iloc[0])
    base = float(overall.get(baseline, np.nan))
    span = f"origins {min(wanted)}-{max(wanted)}"
    if best == baseline or not best_mase < base:
        return fallback, (f"no model beat {baseline} on {span} (best {best}, mean MASE "
                          f"{best_mase:.3f} v {base:.3f}); the default is {fallback}")
    return best, (f"{best} had the lowest mean MASE on {span} ({best_mase:.3f} v "
                  f"{baseline} {base:.3f})")


def with_default(backtest: pd.DataFrame, model: str) -> pd.DataFrame:
    """``backtest`` plus a copy of ``model``'s rows named ``default``."""
    chosen = backtest[backtest["model"] == model].assign(model="default")
    return pd.concat([backtest, chosen], ignore_index=True)


def hazard_backtest(plans: pd.DataFrame, y: pd.Series, origins: Iterable[object], h: int,
                    n_sims: int = 2000) -> pd.DataFrame:
    """Rolling-origin backtest of the child-level stock-flow model.

    Parameters
    ----------
    plans
        The ``cp_plans`` table; each forecast sees only what was known at its origin.
    y
        The quarterly stock (``Q-MAR`` index) the forecasts are scored against.
    origins, h, n_sims
        As for :func:`rolling_origin`, and the simulated paths per origin.

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_COLUMNS` for model ``stock_flow_hazard``.
    """
    frames = []
    for origin in origins:
        cut = _as_period(origin, y.index)
        forecasts = hazard_forecast(plans, cut, h, n_sims=n_sims)
        actual = y.reindex(pd.PeriodIndex(forecasts["period"])).to_numpy(dtype=float)
        frames.append(forecasts.drop(columns="note").assign(
            origin=cut, actual=actual, error=forecasts["point"] - actual,
            scale=naive_scale(y.loc[:cut])))
    if not frames:
        return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(BACKTEST_COLUMNS)]
