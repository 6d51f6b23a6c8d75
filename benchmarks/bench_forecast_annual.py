"""Backtest every annual forecast model across every LA in a DfE release.

Children on CP plans at 31 March, origins 2017-2021, horizons 1-3 years. The
``default`` model is chosen on origins 2017-2019 only (lowest mean MASE over the
horizons) and every model is then scored on origins 2020-2021, which the choice
never saw. Prints, per model and horizon: n, mean and median MASE, mean MASE as a
ratio to naive's, bias and the coverage of the 80% and 95% intervals.

    .venv/bin/python benchmarks/bench_forecast_annual.py [--dfe-dir DIR] [--jobs N] [--out CSV]

Horizon 3 has no outcome yet from origins 2020-2021 (2023 is after the release),
so its out-of-sample row is empty; the table for the choosing origins is printed
too, labelled as such.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from cpstats.io.dfe import read_release
from cpstats.paths import shared_data_dir
from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc

CHOOSE_ON = (2017, 2018, 2019)
REPORT_ON = (2020, 2021)
HORIZON = 3


def table(results: pd.DataFrame, origins: tuple[int, ...]) -> pd.DataFrame:
    """Scores on ``origins`` by model and horizon, with the ratio to naive's mean MASE."""
    wanted = {str(o) for o in origins}
    scores = bt.score(results[results["origin"].astype(str).isin(wanted)])
    naive = scores[scores["model"] == "naive"].set_index("step")["mase"]
    return scores.assign(ratio_to_naive=scores["mase"] / scores["step"].map(naive))


def markdown(scores: pd.DataFrame) -> str:
    """The scores as a Markdown table (rounded, sorted by horizon then mean MASE)."""
    lines = ["| model | h | n | mean MASE | median MASE | ratio to naive | bias | 80% cover | 95% cover |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in scores.sort_values(["step", "mase"], kind="stable").itertuples():
        lines.append(f"| {row.model} | {row.step} | {row.n} | {row.mase:.3f} | {row.median_mase:.3f} "
                     f"| {row.ratio_to_naive:.3f} | {row.bias:+.1f} | {row.coverage_80:.1%} "
                     f"| {row.coverage_95:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dfe-dir", type=Path, default=shared_data_dir() / "dfe" / "cin_2022")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--out", type=Path, default=None, help="write every backtest row as CSV")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    panel = fc.annual_panel(read_release(args.dfe_dir))
    results = bt.backtest_panel(panel, fc.ANNUAL_MODELS, CHOOSE_ON + REPORT_ON, HORIZON,
                                jobs=args.jobs)
    default, note = bt.choose_default(results, CHOOSE_ON)
    results = bt.with_default(results, default)
    elapsed = time.perf_counter() - started

    print(f"# Annual forecast backtest: {len(panel)} LA series, origins "
          f"{CHOOSE_ON[0]}-{REPORT_ON[-1]}, h = 1-{HORIZON} ({elapsed:.0f} s, {args.jobs} processes)\n")
    print(f"Default: {note}.")
    if default != fc.ANNUAL_DEFAULT:
        print(f"WARNING: cpstats.stats.forecast.ANNUAL_DEFAULT is {fc.ANNUAL_DEFAULT!r}, but this "
              f"backtest chooses {default!r}: update the constant.")
    out_of_sample = table(results, REPORT_ON)
    print(f"\n## Out of sample: origins {REPORT_ON[0]}-{REPORT_ON[-1]} (not used to choose)\n")
    print(markdown(out_of_sample))
    missing = sorted(set(range(1, HORIZON + 1)) - set(out_of_sample["step"]))
    if missing:
        print(f"\nNo outcomes yet for h = {missing} from these origins.")
    target = out_of_sample[out_of_sample["model"] == "default"].set_index("step")
    for step, row in target.iterrows():
        verdict = "meets" if row["ratio_to_naive"] <= 0.9 else "misses"
        cover = "within" if 0.75 <= row["coverage_80"] <= 0.85 else "outside"
        print(f"h={step}: default MASE {row['ratio_to_naive']:.1%} of naive's ({verdict} the 10% aim); "
              f"80% interval covers {row['coverage_80']:.1%} ({cover} 75-85%)")
    print(f"\n## For reference: the choosing origins {CHOOSE_ON[0]}-{CHOOSE_ON[-1]} (in-sample for "
          "the choice)\n")
    print(markdown(table(results, CHOOSE_ON)))
    if args.out:
        results.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
