"""Backtest the quarterly forecasts: children on plans (synthetic county) and referrals (DfE).

A. Children on CP plans at each quarter end in the synthetic county (several seeds,
   i.e. several equally plausible counties, with sibling groups whose parameters,
   ``synth.FAMILY_SIZES``, were fixed before any scoring), 20 quarters 2012-13 Q1 to
   2016-17 Q4: every quarterly model and the child-level duration-hazard stock-flow
   model, origins from the 9th quarter, h = 1-2. The fixed default
   (``backtest.QUARTERLY_DEFAULT``) is chosen on the first 4 origins of every seed (the
   lowest 80% interval score among models whose 80% intervals covered 75-85%) and scored on
   the remaining 6 origins of every seed.
B. Referrals per quarter (DfE referrals by month, summed), every LA: seasonal
   models against seasonal naive over the last 8 origins (chosen on the first 4, scored
   on the last 4), MASE scaled by the in-sample seasonal-naive error.

    .venv/bin/python benchmarks/bench_forecast_quarterly.py [--seeds 5] [--las all|N|0] [--jobs N]
    .venv/bin/python benchmarks/bench_forecast_quarterly.py --calibrate   # the hazard widths

``--calibrate`` measures ``hazard.INTERVAL_WIDTHS`` on other counties (seeds
:data:`CALIBRATION_SEEDS`, which part A never scores): the factors the uncalibrated
hazard model's bounds need to hold 80% and 95% of outcomes at each step.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats import synth
from cpstats.io.dfe import read_release
from cpstats.paths import shared_data_dir
from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_forecast_annual import markdown  # noqa: E402

FIRST_YEAR = synth.DEFAULT_YEARS[0]
#: Origins (per seed) the quarterly default is chosen on; the rest are reported.
CHOOSE_FIRST = 4
#: Synthetic counties the hazard model's interval widths are measured on (never scored in A).
CALIBRATION_SEEDS = range(3017, 3027)


def _county(seed: int, h: int) -> tuple:
    """A synthetic county's child-level data, quarterly series and backtest origins."""
    cin = synth.generate(seed=seed).data
    y, exog = fc.quarterly_series(cin, FIRST_YEAR)
    return cin, y, exog, [p for p in y.index[bt.FIRST_ORIGIN:] if p + h <= y.index[-1]]


def calibrate(h: int) -> None:
    """Print the width factors of the hazard model measured on :data:`CALIBRATION_SEEDS`."""
    frames = []
    for seed in CALIBRATION_SEEDS:
        cin, y, _, origins = _county(seed, h)
        frames.append(bt.hazard_backtest(cin.cp_plans, y, origins, h, calibrate=False))
    raw = pd.concat(frames, ignore_index=True)
    print(f"\n## Hazard interval widths: {len(CALIBRATION_SEEDS)} counties (seeds "
          f"{CALIBRATION_SEEDS[0]}-{CALIBRATION_SEEDS[-1]}), {raw['origin'].nunique()} origins each\n")
    scores = bt.score(raw)
    for level in (80, 95):
        factors = fc.hazard_width_factors(raw, level)
        cover = ", ".join(f"h={r.step} {getattr(r, f'coverage_{level}'):.1%}"
                          for r in scores.itertuples())
        print(f"{level}%: uncalibrated coverage {cover}; factors "
              + ", ".join(f"{f:.2f}" for f in factors)
              + f" (now {fc.hazard.INTERVAL_WIDTHS[level]})")


def _scores(results: pd.DataFrame, origins: list, baseline: str) -> pd.DataFrame:
    wanted = {str(o) for o in origins}
    scores = bt.score(results[results["origin"].astype(str).isin(wanted)])
    base = scores[scores["model"] == baseline].set_index("step")["mase"]
    return scores.assign(ratio_to_naive=scores["mase"] / scores["step"].map(base))


def _report(title: str, results: pd.DataFrame, origins: list, h: int, baseline: str) -> None:
    choose, report = bt.split_origins(origins)
    default, note = bt.choose_default(results, choose, baseline=baseline, fallback=baseline)
    results = bt.with_default(results, default)
    span = f"{bt.origin_label(report[0])} to {bt.origin_label(report[-1])}"
    print(f"\n## {title}\n\nDefault: {note}. Scored on origins {span}; "
          f"ratios are to {baseline}.\n")
    print(markdown(_scores(results, report, baseline)))


def synthetic(seeds: int, h: int) -> None:
    frames, origins = [], None
    for seed in range(synth.DEFAULT_SEED, synth.DEFAULT_SEED + seeds):
        cin, y, exog, origins = _county(seed, h)
        frames += [
            bt.rolling_origin(y, bt.QUARTERLY_MODELS, origins, h, exog, season=1).assign(series=seed),
            bt.hazard_backtest(cin.cp_plans, y, origins, h).assign(series=seed),
        ]
    results = pd.concat(frames, ignore_index=True)
    choose, report = origins[:CHOOSE_FIRST], origins[CHOOSE_FIRST:]
    default, note = bt.choose_default(results, choose, criterion="interval")
    results = bt.with_default(results, default)
    span = f"{bt.origin_label(report[0])} to {bt.origin_label(report[-1])}"
    print(f"\n## A. Children on plans next quarter: synthetic county with sibling groups, {seeds} "
          f"seeds x {len(report)} origins\n\nDefault: {note}. Scored on origins {span}.\n")
    if default != bt.QUARTERLY_DEFAULT:
        print(f"WARNING: cpstats.stats.backtest.QUARTERLY_DEFAULT is {bt.QUARTERLY_DEFAULT!r}, but "
              f"this benchmark chooses {default!r}: update the constant.\n")
    reported = results[results["origin"].astype(str).isin({str(o) for o in report})]
    print(f"Every model on the same forecasts: {bt.common_rows(reported).note()}.\n")
    scores = _scores(results, report, "naive")
    print(markdown(scores))
    for row in scores[scores["model"] == "default"].itertuples():
        inside = "within" if 0.75 <= row.coverage_80 <= 0.85 else "OUTSIDE"
        print(f"h={row.step}: the default's 80% interval covered {row.coverage_80:.0%} of "
              f"{row.n} outcomes ({inside} 75-85%); 95%: {row.coverage_95:.0%}")
    print(f"\n### The default's coverage in each county ({len(report)} origins each)\n")
    print(seed_table(reported))


def seed_table(reported: pd.DataFrame) -> str:
    """The default's 80% and 95% coverage by county (seed) and step, as a Markdown table."""
    scores = bt.score(reported[reported["model"] == "default"], by=("series", "step"))
    lines = ["| seed | h | n | 80% cover | 95% cover |", "|---|---|---|---|---|"]
    lines += [f"| {r.series} | {r.step} | {r.n} | {r.coverage_80:.0%} | {r.coverage_95:.0%} |"
              for r in scores.itertuples()]
    return "\n".join(lines)


def referrals(dfe_dir: Path, las: str, jobs: int) -> None:
    facts = read_release(dfe_dir)
    codes = sorted(fc.la_names(facts))
    if las != "all":
        codes = sorted(np.random.default_rng(2022).choice(codes, size=int(las), replace=False))
    panel = {}
    for code in codes:
        y = fc.to_quarters(fc.monthly_series(facts, code))
        if y.notna().sum() >= 20 and pd.notna(y.iloc[-1]):
            panel[code] = (y, None)
    last = max(y.index[-1] for y, _ in panel.values())
    origins = list(pd.period_range(last - 8, last - 1, freq=last.freq))
    results = bt.backtest_panel(panel, bt.REFERRAL_MODELS, origins, 1, season=4, scale_lag=4,
                                jobs=jobs)
    _report(f"B. Referrals next quarter: {len(panel)} LAs (DfE by month, summed to quarters)",
            results, origins, 1, "snaive")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="synthetic counties (default 5)")
    parser.add_argument("--horizon", type=int, default=2, help="quarters ahead (default 2)")
    parser.add_argument("--las", default="all", help="LAs sampled for referrals (a number), or all")
    parser.add_argument("--dfe-dir", type=Path, default=shared_data_dir() / "dfe" / "cin_2022")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--calibrate", action="store_true",
                        help="only measure the hazard model's interval widths")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.calibrate:
        calibrate(args.horizon)
        print(f"\n({time.perf_counter() - started:.0f} s)")
        return 0
    print("# Quarterly forecast backtests")
    synthetic(args.seeds, args.horizon)
    if args.las != "0":
        referrals(args.dfe_dir, args.las, args.jobs)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
