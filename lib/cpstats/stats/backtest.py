"""Rolling-origin backtests: how well each forecast model would have done.

For every origin the model is fitted on the series up to and including that
origin only (``y.loc[:origin]``), forecasts ``h`` steps, and is scored against
what happened. Scores by model and horizon:

- MAE, and MASE: each absolute error divided by the in-sample mean absolute
  one-step naive error of the training series (lag ``scale_lag``: 1, or the
  season for seasonal series), so series of different sizes can be averaged;
  MASE < 1 beats the in-sample naive forecast.
- bias: mean of forecast minus outcome (positive = forecasts too high).
- coverage of the 80% and 95% prediction intervals, and the 80% interval score
  (width plus 10 times any miss, divided by the MASE scale): lower is better, and it
  rewards narrow intervals only while they still hold the outcome.

The ``default`` model is chosen on early origins only (:func:`choose_default`)
and reported on later ones, so its reported accuracy is out of sample.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpstats.stats.forecast import (
    PANEL_COMBOS,
    PANEL_MODELS,
    add_panel_combos,
    fill_too_short,
    panel_needs,
)
from cpstats.stats.forecast.models import Hazard, History, Pooled, SingleSeries, families

#: Columns of a backtest frame (plus ``series`` for a panel).
BACKTEST_COLUMNS = (
    "origin", "model", "fitted", "step", "period", "actual", "point",
    "lower_80", "upper_80", "lower_95", "upper_95", "error", "scale",
)


def _as_period(origin: object, index: pd.PeriodIndex) -> pd.Period:
    return origin if isinstance(origin, pd.Period) else pd.Period(str(origin), freq=index.freq)


def origin_label(origin: object) -> str:
    """An origin as the project writes periods: ``2017`` for a year, ``2016-17 Q4`` for a
    financial quarter (a ``Q-MAR`` Period), ``2017-03`` for a month."""
    from cpstats.periods import quarter_label

    if isinstance(origin, pd.Period) and origin.freqstr.startswith("Q"):
        return quarter_label(origin.qyear, origin.quarter)
    return str(origin)


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
        history = History.at(cut, {0: (y, exog)}, season=season)
        forecasts = pd.concat([f.fit(history, h).frame for f in families(list(models))],
                              ignore_index=True).drop(columns="series")
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
                     origins: Sequence[object], h: int, scale_lag: int,
                     model: str = "pooled") -> pd.DataFrame:
    """Backtest rows of a panel model: one pooled fit per origin, on data up to it."""
    frames = []
    some = next(iter(panel.values()))[0]
    for origin in origins:
        history = History.at(_as_period(origin, some.index), panel)
        forecasts = Pooled((model,)).fit(history, h).frame
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
    needed = panel_needs(models)
    panel_only = (*PANEL_MODELS, *PANEL_COMBOS)
    single = tuple(m for m in models if m not in panel_only)
    single += tuple(sorted(m for m in needed - set(single) if m not in panel_only))
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
    pooled = _pooled_backtest(panel, origins, h, scale_lag)
    others = [_pooled_backtest(panel, origins, h, scale_lag, m) for m in sorted(needed)
              if m in PANEL_MODELS and m != "pooled"]
    frames = [f for f in [*frames, pooled, *others] if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["series", *BACKTEST_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    # As in forecast_panel: a series too short for a model gets the pooled fallback.
    fills = [fill_too_short(out[out["origin"] == o], pooled[pooled["origin"] == o], list(single))
             for o in pooled["origin"].unique()] if not pooled.empty else []
    out = pd.concat([out, *fills], ignore_index=True)
    out = add_panel_combos(out, wanted, ("series", "origin", "step"))
    out = out.assign(error=out["point"] - out["actual"])
    out = out[out["model"].isin(wanted)]
    return out.sort_values(["series", "origin", "model", "step"], kind="stable",
                           ignore_index=True)


#: What identifies one forecast in a backtest (those present): rows sharing them are the same
#: forecast made by different models.
FORECAST_KEYS = ("series", "origin", "step")


@dataclass
class Common:
    """The scorable backtest rows at the forecasts every model made (:func:`common_rows`).

    Attributes
    ----------
    rows
        Rows with a known outcome and a positive MASE scale, at the forecasts (series, origin,
        step) where every model has such a row.
    forecasts
        Those forecasts (each model has one row per forecast).
    left_out
        Forecasts some models scored and others did not, left out for every model.
    missing
        For each model with no row at some of those, how many (the reason they were left out).
    """

    rows: pd.DataFrame
    forecasts: int
    left_out: int
    missing: pd.Series

    def note(self) -> str:
        """What was left out and why, as a sentence."""
        if not self.left_out:
            return f"every model scored on the same {self.forecasts} forecasts"
        why = ", ".join(f"`{m}` had none at {n}" for m, n in self.missing.items())
        return (f"every model scored on the same {self.forecasts} forecasts; {self.left_out} "
                f"that only some models made were left out for all ({why})")


def common_rows(backtest: pd.DataFrame) -> Common:
    """The rows of ``backtest`` every model in it can be compared on.

    A model may have no forecast where another has one (a pooled model without features for a
    short series, a fit that failed), so each model's mean score over its own rows compares
    unequal sets. Kept here: the rows with a known outcome and a positive MASE scale at the
    forecasts (:data:`FORECAST_KEYS` present in the frame) where every model has such a row.

    Returns
    -------
    Common
        The kept rows, how many forecasts were kept and left out, and which models lacked them.
    """
    known = backtest[backtest["actual"].notna() & (backtest["scale"] > 0)]
    keys = [k for k in FORECAST_KEYS if k in known.columns]
    if known.empty:
        return Common(known, 0, 0, pd.Series(dtype=int))
    present = pd.crosstab([known[k].astype(str) for k in keys], known["model"]) > 0
    complete = present.all(axis=1)
    lacking = (~present[~complete]).sum()
    at = pd.MultiIndex.from_frame(known[keys].astype(str)) if len(keys) > 1 else pd.Index(
        known[keys[0]].astype(str))
    kept = known[complete.reindex(at).to_numpy()]
    return Common(kept, int(complete.sum()), int((~complete).sum()),
                  lacking[lacking > 0].sort_index())


def score(backtest: pd.DataFrame, by: Sequence[str] = ("model", "step"),
          common: bool = True) -> pd.DataFrame:
    """Accuracy by ``by``: n, MAE, mean and median MASE, bias, interval coverage and the
    scaled 80% interval score (``interval_80``, :func:`interval_score`).

    Only rows with a known outcome and a positive MASE scale are scored; with ``common``
    (the default) only those at the forecasts every model in ``backtest`` made
    (:func:`common_rows`), so the models' scores compare the same forecasts.
    """
    known = (common_rows(backtest).rows if common
             else backtest[backtest["actual"].notna() & (backtest["scale"] > 0)])
    scored = known.assign(
        abs_error=known["error"].abs(),
        scaled=known["error"].abs() / known["scale"],
        in_80=known["actual"].between(known["lower_80"], known["upper_80"]),
        in_95=known["actual"].between(known["lower_95"], known["upper_95"]),
        interval=interval_score(known) / known["scale"],
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
        interval_80=("interval", "mean"),
    ).reset_index()


def interval_score(rows: pd.DataFrame, level: float = 0.80) -> pd.Series:
    """The interval score of each row's ``level`` interval (Gneiting and Raftery, 2007):
    width, plus ``2 / (1 - level)`` times the distance of an outcome outside it."""
    tag = int(round(level * 100))
    lower, upper, actual = rows[f"lower_{tag}"], rows[f"upper_{tag}"], rows["actual"]
    penalty = 2 / (1 - level)
    return (upper - lower + penalty * (lower - actual).clip(lower=0)
            + penalty * (actual - upper).clip(lower=0))


#: The 80% coverage a model must show on the choosing origins to be chosen by interval score.
COVERAGE_BAND = (0.75, 0.85)


def choose_default(backtest: pd.DataFrame, origins: Iterable[object],
                   baseline: str = "naive", fallback: str = "naive",
                   criterion: str = "mase") -> tuple[str, str]:
    """The best model on ``origins`` only, by mean MASE or by interval score.

    ``criterion="mase"``: the lowest mean MASE (averaged over horizons).
    ``criterion="interval"``: the lowest mean scaled 80% interval score over every
    scored row, among models whose 80% intervals covered :data:`COVERAGE_BAND` of
    outcomes there (an accurate point with an interval that misleads is not chosen).
    If no model beats ``baseline`` there, the default is ``fallback`` and the note says so.

    Returns
    -------
    (str, str)
        The chosen model and a sentence saying how it was chosen.
    """
    origins = list(origins)
    wanted = {str(o) for o in origins}
    early = backtest[backtest["origin"].astype(str).isin(wanted)]
    if early.empty:
        raise ValueError(f"no backtest rows at origins {sorted(wanted)}")
    span = f"origins {origin_label(min(origins))} to {origin_label(max(origins))}"
    if criterion == "interval":
        return _choose_by_interval(early, span, baseline, fallback)
    by_step = score(early, by=("model", "step"))
    overall = by_step.groupby("model")["mase"].mean().dropna().sort_values(kind="stable")
    if overall.empty:  # every error scale zero or unknown (a short or flat series)
        raise ValueError(f"no model has a MASE at origins {sorted(wanted)}")
    best, best_mase = overall.index[0], float(overall.iloc[0])
    base = float(overall.get(baseline, np.nan))
    if best == baseline or not best_mase < base:
        return fallback, (f"no model beat {baseline} on {span} (best {best}, mean MASE "
                          f"{best_mase:.3f} v {base:.3f}); the default is {fallback}")
    return best, (f"{best} had the lowest mean MASE on {span} ({best_mase:.3f} v "
                  f"{baseline} {base:.3f})")


def _choose_by_interval(early: pd.DataFrame, span: str, baseline: str,
                        fallback: str) -> tuple[str, str]:
    overall = score(early, by=("model",)).set_index("model")
    low, high = COVERAGE_BAND
    calibrated = overall[overall["coverage_80"].between(low, high)].sort_values(
        "interval_80", kind="stable")
    base = overall.loc[baseline] if baseline in overall.index else None
    if (calibrated.empty or base is None or calibrated.index[0] == baseline
            or not calibrated["interval_80"].iloc[0] < base["interval_80"]):
        return fallback, (f"no model with 80% coverage within {low:.0%}-{high:.0%} beat "
                          f"{baseline}'s interval score on {span}; the default is {fallback}")
    best = calibrated.iloc[0]
    return str(calibrated.index[0]), (
        f"{calibrated.index[0]} had the lowest 80% interval score on {span} among models whose "
        f"80% intervals covered {low:.0%}-{high:.0%} ({best['interval_80']:.2f} v {baseline} "
        f"{base['interval_80']:.2f}; coverage {best['coverage_80']:.1%}, mean MASE "
        f"{best['mase']:.3f} v {base['mase']:.3f})")


def with_default(backtest: pd.DataFrame, model: str) -> pd.DataFrame:
    """``backtest`` plus a copy of ``model``'s rows named ``default``."""
    chosen = backtest[backtest["model"] == model].assign(model="default")
    return pd.concat([backtest, chosen], ignore_index=True)


def hazard_backtest(plans: pd.DataFrame, y: pd.Series, origins: Iterable[object], h: int,
                    n_sims: int = 2000, calibrate: bool = True) -> pd.DataFrame:
    """Rolling-origin backtest of the child-level stock-flow model.

    Parameters
    ----------
    plans
        The ``cp_plans`` table; each forecast sees only what was known at its origin.
    y
        The quarterly stock (``Q-MAR`` index) the forecasts are scored against.
    origins, h, n_sims
        As for :func:`rolling_origin`, and the simulated paths per origin.
    calibrate
        As for :func:`~cpstats.stats.forecast.hazard_forecast` (``False`` to measure the
        calibration).

    Returns
    -------
    pandas.DataFrame
        :data:`BACKTEST_COLUMNS` for model ``stock_flow_hazard``.
    """
    frames = []
    for origin in origins:
        cut = _as_period(origin, y.index)
        model = Hazard(n_sims=n_sims, calibrate=calibrate)
        forecasts = model.fit(History.at(cut, plans=plans), h).frame
        actual = y.reindex(pd.PeriodIndex(forecasts["period"])).to_numpy(dtype=float)
        frames.append(forecasts.drop(columns="note").assign(
            origin=cut, actual=actual, error=forecasts["point"] - actual,
            scale=naive_scale(y.loc[:cut])))
    if not frames:
        return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(BACKTEST_COLUMNS)]


@dataclass
class Study:
    """A backtest with its default model chosen on early origins and scored on later ones.

    Attributes
    ----------
    backtest
        Every origin, model and step, plus the ``default`` rows.
    default, note
        The chosen model and how it was chosen.
    choose_on, report_on
        The origins the choice used, and the later origins it is scored on.
    scores
        :func:`score` by model and step on ``report_on`` only.
    """

    backtest: pd.DataFrame
    default: str
    note: str
    choose_on: list
    report_on: list
    scores: pd.DataFrame


def split_origins(origins: Sequence[object], choose_share: float = 0.5) -> tuple[list, list]:
    """The first ``choose_share`` of ``origins`` (to choose on) and the rest (to report on)."""
    ordered = list(origins)
    cut = max(1, min(len(ordered) - 1, round(len(ordered) * choose_share)))
    return ordered[:cut], ordered[cut:]


def study(y: pd.Series, models: Sequence[str], origins: Sequence[object], h: int,
          exog: pd.DataFrame | None = None, season: int | None = None, scale_lag: int = 1,
          extra: pd.DataFrame | None = None, choose_share: float = 0.5,
          baseline: str = "naive", fallback: str = "naive", default: str | None = None) -> Study:
    """Backtest ``models`` on one series, choose the default early, score it late.

    Parameters
    ----------
    y, models, origins, h, exog, season, scale_lag
        As for :func:`rolling_origin`.
    extra
        Backtest rows of models fitted elsewhere (e.g. :func:`hazard_backtest`).
    choose_share
        Share of the (time-ordered) origins the default is chosen on.
    baseline, fallback
        The benchmark to beat on the early origins, and the default when nothing beats it.
    default
        A default fixed beforehand (e.g. :data:`QUARTERLY_DEFAULT`): nothing is chosen here,
        and every origin is reported.
    """
    frames = [rolling_origin(y, models, origins, h, exog, season, scale_lag)]
    if extra is not None and not extra.empty:
        frames.append(extra)
    results = pd.concat(frames, ignore_index=True)
    if default is None:
        choose_on, report_on = split_origins(origins, choose_share)
        default, note = choose_default(results, choose_on, baseline=baseline, fallback=fallback)
    else:
        choose_on, report_on = [], list(origins)
        note = f"{default}, fixed beforehand (not chosen on these origins)"
    results = with_default(results, default)
    wanted = {str(o) for o in report_on}
    scores = score(results[results["origin"].astype(str).isin(wanted)])
    return Study(results, default, note, choose_on, report_on, scores)


# --- Next quarter: children on plans (child-level) and referrals (DfE monthly) ----------------

#: Models for the quarterly stock of children on plans (non-seasonal: a stock has no
#: reason to repeat by season, and 20 quarters cannot support seasonal terms), plus the
#: child-level ``stock_flow_hazard``.
QUARTERLY_MODELS = ("naive", "drift", "mean_k", "ets", "arima", "sarimax", "stock_flow", "combo")
#: Seasonal models against seasonal naive for quarterly referrals.
REFERRAL_MODELS = ("naive", "snaive", "mean_k", "ets", "arima")
#: The default for children on plans next quarter, fixed by ``benchmarks/bench_forecast_quarterly.py``
#: across 5 synthetic counties with sibling groups (chosen on each county's first 4 origins by
#: the 80% interval score among calibrated models), not re-chosen per run on a few origins.
QUARTERLY_DEFAULT = "stock_flow_hazard"
#: Quarters of history before the first backtest origin (the hazard model's window).
FIRST_ORIGIN = 8


@dataclass
class Outlook:
    """Forecasts from one origin, with the backtest that says how far to trust them.

    Attributes
    ----------
    y
        The series (up to its last known value).
    origin
        The last period the forecasts saw.
    forecasts
        Every model's forecasts from ``origin`` plus ``default`` (:data:`FORECAST_COLUMNS`
        of :mod:`cpstats.stats.forecast`).
    study
        The backtest and the default's choice (:class:`Study`).
    scenario
        The hazard model's forecasts under a change in referrals (``model`` =
        ``scenario``), or ``None``; ``scenario_change`` is that change (0.1 = 10% more).
    """

    y: pd.Series
    origin: pd.Period
    forecasts: pd.DataFrame
    study: Study
    scenario: pd.DataFrame | None = None
    scenario_change: float | None = None


def _origins_before(y: pd.Series, origin: pd.Period, h: int, first: int) -> list[pd.Period]:
    """Backtest origins: from the ``first``-th period to the last whose outcome is known by ``origin``."""
    index = y.loc[:origin].index
    return [p for p in index[first:] if p + h <= origin]


def _check_origin(y: pd.Series, origin: object, first: int) -> pd.Period:
    from cpstats.errors import ParameterError

    known = y.dropna().index
    cut = y.index[-1] if origin is None else _as_period(origin, y.index)
    if len(known) <= first + 2 or cut not in known or cut < known[first + 2]:
        span = f"{known[first + 2]}-{known[-1]}" if len(known) > first + 2 else "none"
        raise ParameterError("--origin", origin, f"a period with data and at least {first + 2} "
                                                 f"periods before it ({span})")
    return cut


def first_full_year(cin: object) -> int:
    """The first year ending 31 March the child-level records are taken to cover in full:
    the year after the earliest event (which an open case carries back from an earlier
    year), and at most five years before the latest return."""
    from cpstats import measures

    covered = measures.years_covered(cin)
    return max(covered[0] + 1, covered[-1] - 4)


def next_quarter(cin: object, first_year: int | None = None, origin: object = None, h: int = 1,
                 n_sims: int = 2000, referrals_change: float | None = None) -> Outlook:
    """Children on plans in the quarters after ``origin``, from child-level records.

    Parameters
    ----------
    cin
        A :class:`cpstats.childlevel.CinData` (e.g. the synthetic county).
    first_year
        The first year ending 31 March the returns cover in full (default
        :func:`first_full_year`).
    origin
        The last quarter to use (``Q-MAR`` Period or label such as ``2017Q4`` =
        January-March 2017); the last quarter of the data by default.
    h
        Quarters ahead.
    referrals_change
        A scenario, e.g. 0.1 for "referrals rise 10%" from the first quarter ahead: the hazard
        model is run again with new plans raised in proportion (``Outlook.scenario``).

    Returns
    -------
    Outlook
        Forecasts by :data:`QUARTERLY_MODELS`, ``stock_flow_hazard`` and ``default``
        (:data:`QUARTERLY_DEFAULT`, fixed by the benchmark across synthetic counties; every
        backtest origin is scored).
    """
    from cpstats.stats.forecast import quarterly_series

    y, exog = quarterly_series(cin, first_full_year(cin) if first_year is None else first_year)
    cut = _check_origin(y, origin, FIRST_ORIGIN)
    origins = _origins_before(y, cut, h, FIRST_ORIGIN)
    extra = hazard_backtest(cin.cp_plans, y.loc[:cut], origins, h, n_sims=n_sims)
    found = study(y.loc[:cut], QUARTERLY_MODELS, origins, h, exog.loc[:cut], season=1, extra=extra,
                  default=QUARTERLY_DEFAULT)
    history = History.at(cut, {0: (y, exog)}, plans=cin.cp_plans, season=1)
    forecasts = pd.concat([SingleSeries(QUARTERLY_MODELS).fit(history, h).frame,
                           Hazard(n_sims=n_sims).fit(history, h).frame], ignore_index=True)
    forecasts = _add_default(forecasts.drop(columns="series", errors="ignore"), found.default)
    scenario = None
    if referrals_change is not None:
        scenario = Hazard(n_sims=n_sims, starts_factor=1 + referrals_change).fit(
            history, h).frame.assign(model="scenario")
    return Outlook(y.loc[:cut], cut, forecasts, found, scenario, referrals_change)


def next_quarter_referrals(facts: pd.DataFrame, la_code: str, origin: object = None,
                           h: int = 1, n_origins: int = 12) -> Outlook:
    """Referrals in the quarters after ``origin`` for one LA, from DfE's referrals by month.

    The monthly figures are summed to financial quarters; seasonal models
    (:data:`REFERRAL_MODELS`) are backtested against seasonal naive over the last
    ``n_origins`` origins, MASE scaled by the in-sample seasonal-naive error.
    """
    from cpstats.stats.forecast import monthly_series, to_quarters

    y = to_quarters(monthly_series(facts, la_code))
    if y.empty:
        from cpstats.errors import ParameterError

        raise ParameterError("--la", la_code, "an LA with referrals by month in the DfE release")
    cut = _check_origin(y, origin, FIRST_ORIGIN)
    origins = _origins_before(y, cut, h, FIRST_ORIGIN)[-n_origins:]
    found = study(y.loc[:cut], REFERRAL_MODELS, origins, h, season=4, scale_lag=4,
                  baseline="snaive", fallback="snaive")
    history = History.at(cut, {0: (y, None)}, season=4)
    forecasts = SingleSeries(REFERRAL_MODELS).fit(history, h).frame.drop(columns="series")
    forecasts = _add_default(forecasts, found.default)
    return Outlook(y.loc[:cut], cut, forecasts, found)


def _add_default(forecasts: pd.DataFrame, model: str) -> pd.DataFrame:
    chosen = forecasts[forecasts["model"] == model].assign(model="default")
    return pd.concat([forecasts, chosen], ignore_index=True)
