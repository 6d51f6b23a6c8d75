"""Backtest every annual forecast model across every LA in a DfE release.

Children on CP plans at 31 March, origins 2016-2021, horizons 1-3 years. The
``default`` model is chosen on origins 2016-2018 only (the lowest mean 80% interval
score among models whose 80% intervals covered 75-85% there; mean MASE beside it) and
every model is then scored on origins 2019-2021, which the choice never saw: every origin
and horizon with origin + h <= 2022 (the release's last year). Prints, per model and
horizon and over all horizons together, on the forecasts every model made (the benchmark says
how many were left out and why; ``backtest.common_rows``): n, mean and median MASE, mean MASE as a ratio to
naive's, bias, the 80% interval score and the coverage of the 80% and 95% intervals; then the
80% coverage in each third of councils by children on plans at the origin.

    .venv/bin/python benchmarks/bench_forecast_annual.py [--dfe-dir DIR] [--jobs N] [--out CSV]

The aims (issue 13): the default's mean MASE over all LAs, origins and horizons at most
0.90 of naive's, and its 80% interval covering 75-85% of outcomes in each third by size.
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

CHOOSE_ON = (2016, 2017, 2018)
REPORT_ON = (2019, 2020, 2021)
HORIZON = 3
#: The aims the default is checked against.
MASE_AIM = 0.90
COVERAGE_AIM = (0.75, 0.85)


def table(results: pd.DataFrame, origins: tuple[int, ...],
          by: tuple[str, ...] = ("model", "step")) -> pd.DataFrame:
    """Scores on ``origins`` by ``by``, with each mean MASE as a ratio to naive's."""
    wanted = {str(o) for o in origins}
    scores = bt.score(results[results["origin"].astype(str).isin(wanted)], by=by)
    if "step" not in by:
        scores = scores.assign(step="all")
    naive = scores[scores["model"] == "naive"].set_index("step")["mase"]
    return scores.assign(ratio_to_naive=scores["mase"] / scores["step"].map(naive))


def markdown(scores: pd.DataFrame) -> str:
    """The scores as a Markdown table (rounded, sorted by horizon then mean MASE)."""
    lines = ["| model | h | n | mean MASE | median MASE | ratio to naive | bias | 80% interval "
             "score | 80% cover | 95% cover |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in scores.sort_values(["step", "mase"], kind="stable").itertuples():
        lines.append(f"| {row.model} | {row.step} | {row.n} | {row.mase:.3f} | {row.median_mase:.3f} "
                     f"| {row.ratio_to_naive:.3f} | {row.bias:+.1f} | {row.interval_80:.2f} "
                     f"| {row.coverage_80:.1%} | {row.coverage_95:.1%} |")
    return "\n".join(lines)


def by_size(results: pd.DataFrame, panel: dict, origins: tuple[int, ...]) -> pd.DataFrame:
    """80% coverage and interval score by model and third of councils by children on plans
    at the origin (thirds cut over the scored rows)."""
    wanted = {str(o) for o in origins}
    rows = results[results["origin"].astype(str).isin(wanted) & results["actual"].notna()
                   & (results["scale"] > 0)]
    level = [panel[s][0].get(o, float("nan")) for s, o in zip(rows["series"], rows["origin"],
                                                                strict=True)]
    rows = rows.assign(level=level)
    cuts = rows.loc[rows["model"] == "naive", "level"].quantile([1 / 3, 2 / 3]).to_numpy()
    third = pd.cut(rows["level"], [-1, cuts[0], cuts[1], float("inf")],
                   labels=[f"at most {cuts[0]:.0f}", f"{cuts[0]:.0f}-{cuts[1]:.0f}",
                           f"over {cuts[1]:.0f}"])
    scores = bt.score(rows.assign(third=third), by=("model", "third"))
    return scores.pivot(index="model", columns="third", values="coverage_80")


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
    default, note = bt.choose_default(results, CHOOSE_ON, criterion="interval")
    results = bt.with_default(results, default)
    elapsed = time.perf_counter() - started

    print(f"# Annual forecast backtest: {len(panel)} LA series, origins "
          f"{CHOOSE_ON[0]}-{REPORT_ON[-1]}, h = 1-{HORIZON} ({elapsed:.0f} s, {args.jobs} processes)\n")
    print(f"Default: {note}.")
    if default != fc.ANNUAL_DEFAULT:
        print(f"WARNING: cpstats.stats.forecast.ANNUAL_DEFAULT is {fc.ANNUAL_DEFAULT!r}, but this "
              f"backtest chooses {default!r}: update the constant.")
    span = f"origins {REPORT_ON[0]}-{REPORT_ON[-1]}, every h with origin + h <= 2022"
    print(f"\n## Reported: {span} (not used to choose)\n")
    for name, origins in (("Chosen on", CHOOSE_ON), ("Reported on", REPORT_ON)):
        common = bt.common_rows(results[results["origin"].astype(str).isin(map(str, origins))])
        print(f"{name} origins {origins[0]}-{origins[-1]}: {common.note()}.")
    print()
    print(markdown(table(results, REPORT_ON)))
    overall = table(results, REPORT_ON, by=("model",))
    print(f"\n### Every origin and horizon together ({span})\n")
    print(markdown(overall))
    thirds = by_size(results, panel, REPORT_ON)
    print(f"\n### 80% coverage by third of councils (children on plans at the origin; {span})\n")
    print("| model | " + " | ".join(map(str, thirds.columns)) + " |")
    print("|---|" + "---|" * len(thirds.columns))
    for model, row in thirds.iterrows():
        print(f"| {model} | " + " | ".join(f"{v:.1%}" for v in row) + " |")
    mine = overall.set_index("model").loc["default"]
    low, high = COVERAGE_AIM
    ok_mase = mine["ratio_to_naive"] <= MASE_AIM
    ok_cover = thirds.loc["default"].between(low, high).all()
    print(f"\nAim 1 (mean MASE at most {MASE_AIM:.2f} of naive's): default {mine['ratio_to_naive']:.3f}: "
          f"{'met' if ok_mase else 'NOT met'}.")
    print(f"Aim 2 (80% coverage {low:.0%}-{high:.0%} in each third): "
          + ", ".join(f"{v:.1%}" for v in thirds.loc["default"])
          + f": {'met' if ok_cover else 'NOT met'}.")
    print(f"\n## For reference: the choosing origins {CHOOSE_ON[0]}-{CHOOSE_ON[-1]} (in-sample for "
          "the choice)\n")
    print(markdown(table(results, CHOOSE_ON, by=("model",))))
    if args.out:
        results.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
