"""Next quarter from child-level records: a stock-flow model by sibling group, with end hazards
by time on plan (``stock_flow_hazard``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpstats.stats.forecast.base import FORECAST_COLUMNS

# --- Next quarter from child-level records: a stock-flow model with a duration hazard --------

#: Width of a duration band in months; plans at 24 months or more share the last band.
BAND_MONTHS = 3
N_BANDS = 9
#: Quarters of history the hazards and the expected starts are estimated from.
HAZARD_WINDOW = 8
STARTS_WINDOW = 4
#: Interval calibration: each simulated bound's distance from the point is multiplied by the
#: factor for its level and quarter ahead (the last factor beyond). Measured by
#: :func:`width_factors` on the uncalibrated model's backtests of 10 synthetic counties (seeds
#: 3017-3026, every origin from the 9th quarter, h = 1-2) that the quarterly benchmark does
#: not score, before it scored the calibrated model (``benchmarks/bench_forecast_quarterly.py
#: --calibrate`` measures them again).
INTERVAL_WIDTHS = {80: (0.83, 1.06), 95: (0.74, 1.14)}


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


def width_factors(backtest: pd.DataFrame, level: int) -> np.ndarray:
    """Per step, the factor by which the ``level``% bounds' distances from the point must be
    multiplied for the interval to hold ``level``% of the outcomes in ``backtest``.

    Each outcome needs ``(actual - point) / (bound - point)`` on its side of the point; the
    ``level``% quantile of that ratio is the factor (quantile calibration). ``backtest`` must
    come from the uncalibrated model (``calibrate=False``).
    """
    rows = backtest[backtest["actual"].notna()]
    above = rows["actual"] > rows["point"]
    reach = np.where(above, rows[f"upper_{level}"] - rows["point"], rows["point"] - rows[f"lower_{level}"])
    ratio = (rows["actual"] - rows["point"]).abs() / np.maximum(reach, 1e-9)
    return ratio.groupby(rows["step"]).quantile(level / 100).to_numpy()


def _calibrated(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its bounds widened or narrowed by :data:`INTERVAL_WIDTHS`."""
    out = frame.copy()
    for level, factors in INTERVAL_WIDTHS.items():
        factor = np.asarray(factors)[np.minimum(frame["step"].to_numpy() - 1, len(factors) - 1)]
        for side in ("lower", "upper"):
            column = f"{side}_{level}"
            out[column] = np.maximum(frame["point"] + factor * (frame[column] - frame["point"]), 0.0)
    return out


def hazard_forecast(plans: pd.DataFrame, origin: object, h: int = 1, n_sims: int = 4000,
                    seed: int = 20170331, trend: bool = True,
                    starts_factor: float = 1.0, calibrate: bool = True) -> pd.DataFrame:
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
    simulated stocks, the bounds their quantiles, each moved from the point by the calibration
    factor for its level and step (:data:`INTERVAL_WIDTHS`, measured on other synthetic
    counties: the raw quantiles held 91% of outcomes at 80% one quarter ahead). Only plans started by the origin, and
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
    calibrate
        Scale the bounds by :data:`INTERVAL_WIDTHS` (default); ``False`` gives the simulation's
        own quantiles, from which the factors are measured.

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
    frame = _calibrated(frame) if calibrate else frame
    return frame.assign(model="stock_flow_hazard", fitted="stock_flow_hazard", note="")[
        list(FORECAST_COLUMNS)]
