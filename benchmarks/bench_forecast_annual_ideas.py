"""Ideas tried for the annual aim (issue 13, third and fourth rounds), each fixed before its
2019-2021 figures were printed.

The aim: the annual default's mean MASE over every LA, origin 2019-2021 and horizon 1-3 (origin
+ h <= 2022) at most 0.90 of naive's. Each idea below was fixed, and any setting of it chosen on
origins 2016-2018, before its 2019-2021 figures were printed (once, by this script):

- ``national``: a national year effect. Every LA's log change in a year shares a shock, taken as
  the median log change over the LAs at that year; from the origin the last shock is carried
  with the AR(1) persistence of the shocks up to the origin (least squares through 0, clipped to
  0-1): the last value times ``exp(sum rho^j s)``. ``combo_flows_x_national`` multiplies the
  default by the same carried effect.
- ``flows_nn``: ``flows`` shrunk towards neighbours as they stood at each year, without the
  2021 list (the only one published here): the 10 LAs nearest in log child population and rate
  per 10,000 that year.
- ``local_nb``: ``local_level`` with a negative-binomial observation: the variance of a log count
  ``1 / mu + 1 / r`` (delta method) with ``mu`` the predicted count, not the observed one.
- ``flows_w``: ``flows`` with a fixed weight on each LA's own rates (0, 0.25, ..., 1) instead of
  the empirical Bayes one, the weight chosen by mean MASE on 2016-2018; ``combo_flows_w`` the
  default's combination with it.
- ``blend``: the default moved from naive by a weight (0-2 by 0.1) chosen by mean MASE.
- ``rule_subset``: the stated rule (lowest 80% interval score among models covering 75-85%)
  over every mean of 1-4 of twelve models (793 candidates).

Fourth round:

- ``durations``: DfE's d5 bands of children on plans at 31 March by time on the plan. Every
  child on a plan for a year or more a year on was on a plan at the origin, so that part is
  each band under a year times the share reaching 1-2 years, plus a year or more times the
  share reaching 2 years or more (four shares, least squares through 0 over every LA and year
  pair up to the origin); the children on plans for under a year are carried at their last
  value. A suppressed band (1-5) gets an equal share of what the total leaves.
  ``combo_flows_durations`` is the default's mean with it. The script also prints how a year's
  change splits between the two parts, and the default's gain over naive in each third of
  forecasts by the series' scale relative to its level.

Scores use the forecasts every model made (``backtest.common_rows``).

    .venv/bin/python benchmarks/bench_forecast_annual.py --out rows.csv   # the other models
    .venv/bin/python benchmarks/bench_forecast_annual_ideas.py --rows rows.csv [--dfe-dir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cpstats import codes
from cpstats.io.dfe import read_release
from cpstats.paths import shared_data_dir
from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc
from cpstats.stats.forecast import flows as fl
from cpstats.stats.forecast import panel as pn
from cpstats.stats.forecast import statespace as ss
from cpstats.stats.forecast.pooling import (
    BOUND_COLUMNS,
    empirical_bounds,
    floored_scale,
    log_ratio,
    panel_frame,
    period_of,
    wide,
)

CHOOSE_ON, REPORT_ON = (2016, 2017, 2018), (2019, 2020, 2021)
NEIGHBOURS = 10
FLOW_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
SUBSET_POOL = ("naive", "mean_k", "ets", "arima", "stock_flow", "pooled", "pooled_median",
               "flows", "local_level", "national", "flows_nn", "local_nb")
#: DfE's d5 bands of children on plans at 31 March by time on the plan, shortest first.
DURATION_BANDS = tuple(code for code, _ in codes.DURATION_BANDS)
_BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]


def _bounds_by_step(paths: list[np.ndarray], stock: pd.DataFrame, h: int) -> dict:
    """Point and bounds per series and step from each step's forecasts made at every period."""
    y, scale = stock.to_numpy(dtype=float), floored_scale(stock)
    values = {c: np.full((stock.shape[1], h), np.nan) for c in BOUND_COLUMNS}
    for k, path in enumerate(paths, start=1):
        bounds = empirical_bounds(path, y, scale, k)
        for column, value in (bounds or {}).items():
            values[column][:, k - 1] = value
    return values


def national_forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
    """The last value carried by the national year shock (see the module docstring)."""
    cut = period_of(panel, origin)
    stock, _ = wide(panel, cut, ())
    change = log_ratio(stock, stock.shift(1))
    shock = change.median(axis=1).where(change.notna().sum(axis=1) >= 30).to_numpy()
    now, before = shock[1:], shock[:-1]
    ok = np.isfinite(now) & np.isfinite(before)
    rho = (float(np.clip((now[ok] * before[ok]).sum() / max((before[ok] ** 2).sum(), 1e-12), 0, 1))
           if ok.sum() >= 2 else 0.0)
    y, carry = stock.to_numpy(dtype=float), np.nan_to_num(shock)[:, None]
    paths = [y * np.exp(carry * sum(rho**j for j in range(1, k + 1))) for k in range(1, h + 1)]
    return panel_frame(panel, stock, cut, h, _bounds_by_step(paths, stock, h), "national")


def _neighbour_medians(own: pd.DataFrame, stock: pd.DataFrame, rate: pd.DataFrame) -> pd.DataFrame:
    """The median of ``own`` over each LA's :data:`NEIGHBOURS` nearest LAs at each period, by
    standardised log child population and log rate per 10,000 at that period."""
    rate = rate.where(rate > 0)
    features = np.stack([np.log((stock / rate * 10_000).to_numpy()), np.log(rate.to_numpy())], -1)
    values, target = own.to_numpy(), np.full(own.shape, np.nan)
    for t in range(own.shape[0]):  # a loop over years; LAs are vectorised
        ok = np.isfinite(features[t]).all(axis=1) & np.isfinite(values[t])
        if ok.sum() <= NEIGHBOURS:
            continue
        z = stats.zscore(features[t][ok], axis=0)
        distance = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
        np.fill_diagonal(distance, np.inf)
        near = np.argsort(distance, axis=1)[:, :NEIGHBOURS]
        target[t, np.flatnonzero(ok)] = np.median(values[t][ok][near], axis=1)
    fallback = np.repeat(own.median(axis=1).to_numpy()[:, None], own.shape[1], axis=1)
    return pd.DataFrame(np.where(np.isnan(target), fallback, target), own.index, own.columns)


def _shrink_to_neighbours(values: pd.DataFrame, stock: pd.DataFrame, rate: pd.DataFrame
                          ) -> pd.DataFrame:
    """:func:`flows.shrink` with each LA's neighbours at the time as its group."""
    years = fl.FLOW_YEARS
    own = values.rolling(years, min_periods=1).mean()
    n = values.notna().astype(float).rolling(years, min_periods=1).sum().where(lambda f: f > 0)
    s2 = values.rolling(years, min_periods=2).var().mean(axis=1).to_numpy()[:, None]
    tau2 = np.maximum(own.var(axis=1).to_numpy()[:, None] - (s2 / n).mean(axis=1).to_numpy()[:, None],
                      1e-9)
    weight = tau2 / (tau2 + s2 / n)
    return own * weight + _neighbour_medians(own, stock, rate) * (1 - weight)


def flows_nn_forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
    """``flows`` shrunk towards each LA's neighbours as they stood at each year."""
    cut = period_of(panel, origin)
    stock, exog = wide(panel, cut, fl.FLOW_NEEDS)
    starts, rate = exog["cp_plans_started"], exog["cp_rate_per_10k"]
    population = stock / rate.where(rate > 0) * 10_000
    stays = (stock / (stock.shift(1) + starts)).where(lambda s: (s > 0) & (s < 1))
    new = (_shrink_to_neighbours(starts / population * 10_000, stock, rate).to_numpy()
           * population.to_numpy() / 10_000)
    keep = np.clip(_shrink_to_neighbours(stays, stock, rate).to_numpy(), 0.0, 1.0)
    level, paths = stock.to_numpy(dtype=float), []
    for _ in range(h):
        level = (level + new) * keep
        paths.append(level)
    return panel_frame(panel, stock, cut, h, _bounds_by_step(paths, stock, h), "flows_nn")


def _nb_filter(x: np.ndarray, extra: float, mean: np.ndarray, phi: float, q: float
               ) -> tuple[float, np.ndarray]:
    """:func:`statespace._filter` with the observation variance ``exp(-level) + extra``."""
    level, var = np.full(x.shape[1], np.nan), np.full(x.shape[1], np.nan)
    levels, loglik = np.full(x.shape, np.nan), 0.0
    for t in range(x.shape[0]):
        seen = np.isfinite(x[t])
        first = seen & np.isnan(level)
        level[first], var[first] = x[t, first], 1.0
        going = np.isfinite(level) & ~first
        m = mean[t - 1, going] if t else level[going]
        level[going] = m + phi * (level[going] - m)
        var[going] = phi**2 * var[going] + q
        upd = going & seen
        total = var[upd] + np.exp(-level[upd]) + extra
        error = x[t, upd] - level[upd]
        loglik += float(stats.norm.logpdf(error, scale=np.sqrt(total)).sum())
        gain = var[upd] / total
        level[upd] += gain * error
        var[upd] *= 1 - gain
        levels[t] = np.where(seen, level, np.nan)
    return loglik, levels


def local_nb_forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
    """``local_level`` with a negative-binomial observation (see the module docstring)."""
    cut = period_of(panel, origin)
    stock, _ = wide(panel, cut, ())
    x, mean, _ = ss._log_counts(stock)
    grid = itertools.product(ss.PHI_GRID, ss.LEVEL_VAR_GRID, ss.NOISE_VAR_GRID)
    phi, q, extra = max(grid, key=lambda p: _nb_filter(x, p[2], mean, p[0], p[1])[0])
    levels = _nb_filter(x, extra, mean, phi, q)[1]
    paths = [np.exp(mean + phi**k * (levels - mean)) for k in range(1, h + 1)]
    return panel_frame(panel, stock, cut, h, _bounds_by_step(paths, stock, h), "local_nb")


def _flows_weighted(weight: float):
    def forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
        return fl.flows_forecast(panel, origin, h, weight=weight).assign(model=f"flows_w{weight}")
    return forecast


def duration_bands(facts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each LA's children on plans at 31 March by how long they had been on the plan (DfE's
    d5), year x band, missing where suppressed."""
    rows = facts[(facts["measure"] == "cp_by_duration") & (facts["geography_level"] == "local_authority")]
    table = rows.assign(year=rows["period"].str.slice(0, 4).astype(int) + 1).pivot_table(
        index=["geography_code", "year"], columns="breakdown", values="value", aggfunc="first",
        dropna=False)[[f"duration={b}" for b in DURATION_BANDS]]
    return {str(code): frame.droplevel(0) for code, frame in table.groupby(level=0)}


def with_durations(panel: dict, bands: dict[str, pd.DataFrame]) -> dict:
    """``panel`` with each LA's duration bands (``under_1y``, ``one_year_or_more`` and the three
    bands under a year) added to its exogenous frame; a suppressed band (1-5) gets an equal share
    of what the LA's published total leaves after the other bands."""
    columns = [f"duration={d}" for d in DURATION_BANDS]
    out = {}
    for key, (y, exog) in panel.items():
        b = bands.get(str(key))
        frame = (pd.DataFrame(np.nan, index=y.index, columns=columns) if b is None
                 else b.reindex([p.year for p in y.index]).set_axis(y.index))
        hidden = frame.isna().sum(axis=1)
        share = ((y - frame.sum(axis=1)) / hidden.where(hidden > 0)).clip(lower=0)
        frame = frame.fillna(dict.fromkeys(columns, share))
        under = frame[columns[:3]]
        extra = pd.DataFrame({**{f"band_{i}": under.iloc[:, i] for i in range(3)},
                              "under_1y": under.sum(axis=1, min_count=3),
                              "one_year_or_more": frame[columns[3:]].sum(axis=1, min_count=2)})
        out[key] = (y, pd.concat([exog, extra], axis=1) if exog is not None else extra)
    return out


DURATION_COLUMNS = ("band_0", "band_1", "band_2", "under_1y", "one_year_or_more")


def durations_forecast(panel: dict, origin: object, h: int) -> pd.DataFrame:
    """Children still on a plan a year on, from the stock's duration mix; new ones carried.

    The stock a year on is the children on plans for under a year then (those who started in
    the year) plus those on plans for a year or more (every one of them was on a plan at the
    origin). The second part is each band under a year times the share that reaches 1-2 years a
    year later, plus a year or more times the share that reaches 2 years or more, the four
    shares fitted by least squares through 0 over every LA and year pair up to the origin. The
    first part is carried at its last value. Interval: as ``flows``.
    """
    cut = period_of(panel, origin)
    stock, exog = wide(panel, cut, DURATION_COLUMNS)
    under = [exog[f"band_{i}"].to_numpy(dtype=float) for i in range(3)]
    long_ = exog["one_year_or_more"].to_numpy(dtype=float)
    x_under = np.stack([u[:-1] for u in under], -1).reshape(-1, 3)
    y_long = long_[1:].ravel()
    ok = np.isfinite(x_under).all(axis=1) & np.isfinite(y_long)
    x_long = long_[:-1].ravel()
    ok = ok & np.isfinite(x_long)
    design = np.column_stack([x_under[ok], x_long[ok]])
    coef = np.linalg.lstsq(design, y_long[ok], rcond=None)[0]
    reach = np.stack(under, -1) @ coef[:3]  # under a year now -> a year or more next year
    new = exog["under_1y"].to_numpy(dtype=float)
    paths, survivors = [], long_
    for _ in range(h):
        survivors = reach + coef[3] * survivors
        paths.append(new + survivors)
    return panel_frame(panel, stock, cut, h, _bounds_by_step(paths, stock, h), "durations")


IDEAS = {"national": national_forecast, "flows_nn": flows_nn_forecast,
         "local_nb": local_nb_forecast, **{f"flows_w{w}": _flows_weighted(w) for w in FLOW_WEIGHTS},
         "durations": durations_forecast}


def _scores(values: np.ndarray, rows: np.ndarray, actual: np.ndarray, scale: np.ndarray
            ) -> tuple[float, float, float]:
    """Mean MASE, 80% coverage and mean scaled 80% interval score of ``values`` on ``rows``."""
    point, low, high, a, s = (values[rows, 0], values[rows, 1], values[rows, 2], actual[rows],
                              scale[rows])
    width = high - low + 10 * np.clip(low - a, 0, None) + 10 * np.clip(a - high, 0, None)
    return (float(np.mean(np.abs(point - a) / s)), float(np.mean((a >= low) & (a <= high))),
            float(np.mean(width / s)))


def _gain_by_volatility(vals: dict, actual: np.ndarray, scale: np.ndarray, spans: dict) -> str:
    """The default's mean MASE and naive's in each third of forecasts by the series' scale
    relative to its level at the origin (naive's point), flattest history first."""
    relative = scale / vals["naive"][:, 0]
    lines = ["| origins | third by scale / level | n | naive mean MASE | default mean MASE | ratio |",
             "|---|---|---|---|---|---|"]
    for span, on in spans.items():
        edges = np.quantile(relative[on], [1 / 3, 2 / 3])
        third = np.digitize(relative, edges)
        for k, label in enumerate(("flattest", "middle", "most volatile")):
            rows = on & (third == k)
            naive, default = (float(np.mean(np.abs(vals[m][rows, 0] - actual[rows]) / scale[rows]))
                              for m in ("naive", "combo_flows"))
            lines.append(f"| {span} | {label} | {rows.sum()} | {naive:.3f} | {default:.3f} "
                         f"| {default / naive:.3f} |")
    return "\n".join(lines)


def _year_change_parts(panel: dict) -> str:
    """How much of a year's change in children on plans is in those on plans for under a year
    (who started in the year) and how much in those on plans for a year or more."""
    last = max(p for y, _ in panel.values() for p in y.index)
    stock, exog = wide(panel, last, ("under_1y", "one_year_or_more"))
    parts = {"stock": stock, **exog}
    changes = {n: f.diff().to_numpy() for n, f in parts.items()}
    ok = np.logical_and.reduce([np.isfinite(c) for c in changes.values()])
    mean = {n: float(np.abs(c[ok]).mean()) for n, c in changes.items()}
    return (f"A year's change in children on plans, mean over {ok.sum()} LA-years 2014-2022 "
            f"with every band published or inferred: {mean['stock']:.1f} children; in those on "
            f"plans for under a year {mean['under_1y']:.1f}, in those on plans for a year or more "
            f"{mean['one_year_or_more']:.1f}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=Path, required=True,
                        help="bench_forecast_annual.py --out: every other model's backtest rows")
    parser.add_argument("--dfe-dir", type=Path, default=shared_data_dir() / "dfe" / "cin_2022")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    facts = read_release(args.dfe_dir)
    panel = with_durations(fc.annual_panel(facts), duration_bands(facts))
    pn.PANEL_MODELS.update(IDEAS)  # so the backtest fits them through the one interface
    new = pd.concat([bt._pooled_backtest(panel, CHOOSE_ON + REPORT_ON, 3, 1, model=m)
                     for m in IDEAS], ignore_index=True)
    rows = pd.read_csv(args.rows, dtype={"series": str})
    new = new.assign(origin=new["origin"].astype(str).astype(int), period=new["period"].astype(str))
    rows = bt.common_rows(pd.concat([rows, new[rows.columns]], ignore_index=True)).rows
    table = {m: g.set_index(["series", "origin", "step"]).sort_index() for m, g in rows.groupby("model")}
    index = table["naive"].index
    vals = {m: t.reindex(index)[_BOUNDS].to_numpy() for m, t in table.items()}
    actual, scale = (table["naive"][c].to_numpy() for c in ("actual", "scale"))
    origin = index.get_level_values("origin").to_numpy()
    early, late = np.isin(origin, CHOOSE_ON), np.isin(origin, REPORT_ON)

    def score(v: np.ndarray, on: np.ndarray) -> tuple[float, float, float]:
        return _scores(v, on, actual, scale)

    with np.errstate(invalid="ignore", divide="ignore"):
        effect = vals["national"][:, :1] / vals["naive"][:, :1]
    ideas = {m: vals[m] for m in ("national", "flows_nn", "local_nb")}
    ideas["combo_flows_x_national"] = vals["combo_flows"] * np.where(np.isfinite(effect), effect, 1)
    weight = min(FLOW_WEIGHTS, key=lambda w: score(vals[f"flows_w{w}"], early)[0])
    ideas[f"flows_w{weight}"] = vals[f"flows_w{weight}"]
    ideas[f"combo_flows_w{weight}"] = np.mean([vals[f"flows_w{weight}"], vals["pooled_median"],
                                              vals["pooled"]], axis=0)
    blends = np.round(np.arange(0, 2.01, 0.1), 1)
    blend = min(blends, key=lambda w: score(vals["naive"] + w * (vals["combo_flows"] - vals["naive"]),
                                            early)[0])
    ideas[f"blend_{blend}"] = vals["naive"] + blend * (vals["combo_flows"] - vals["naive"])
    subsets = {"+".join(c): np.nanmean([vals[m] for m in c], axis=0)
               for size in (1, 2, 3, 4) for c in itertools.combinations(SUBSET_POOL, size)}
    scored = {n: score(v, early) for n, v in subsets.items()}
    calibrated = [n for n, s in scored.items() if bt.COVERAGE_BAND[0] <= s[1] <= bt.COVERAGE_BAND[1]]
    rule = min(calibrated, key=lambda n: scored[n][2])
    ideas[f"rule_subset ({rule})"] = subsets[rule]
    ideas["durations"] = vals["durations"]
    ideas["combo_flows_durations"] = np.mean([vals[m] for m in ("flows", "pooled_median", "pooled",
                                                                "durations")], axis=0)
    ideas["combo_flows (the default)"] = vals["combo_flows"]
    base_early, base_late = score(vals["naive"], early)[0], score(vals["naive"], late)[0]
    print(f"# Annual ideas, issue 13 third and fourth rounds ({time.perf_counter() - started:.0f} s)\n")
    print(f"Forecasts: {early.sum()} on origins 2016-2018, {late.sum()} on 2019-2021; flows weight "
          f"chosen {weight}, blend weight {blend}, rule over {len(subsets)} subsets: {rule}.\n")
    print(_year_change_parts(panel) + "\n")
    print("| idea | ratio to naive 2016-2018 | 80% score 2016-2018 | ratio to naive 2019-2021 "
          "| 80% cover 2019-2021 | 80% score 2019-2021 |")
    print("|---|---|---|---|---|---|")
    for name, v in ideas.items():
        (m1, _, s1), (m2, c2, s2) = score(v, early), score(v, late)
        print(f"| {name} | {m1 / base_early:.3f} | {s1:.2f} | {m2 / base_late:.3f} | {c2:.1%} "
              f"| {s2:.2f} |")
    print("\n" + _gain_by_volatility(vals, actual, scale, {"2016-2018": early, "2019-2021": late}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
