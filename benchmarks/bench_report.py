"""Wall time of the default ``cpstats report`` against the floor: executing the same number of
notebooks that only import the suite's dependencies, with the same kernel and parallelism.

Prints both, their ratio, and each stage's own time (planning, executing each notebook, HTML
export, assembling the folder). ``--batch N`` also times a batch of N LAs (``all`` for every LA)
for one year from DfE data alone, per LA. Not a test: run it with ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from cpstats import executors, report
from cpstats.defaults import DEFAULT_LA, DEFAULT_YEAR
from cpstats.paths import shared_data_dir

# The suite's dependencies as its code imports them: statsmodels by the models it fits (the
# notebooks never import statsmodels.api, which loads every model: a floor importing it would
# flatter the ratio by about 0.2 s a notebook).
IMPORTS = """
import lxml.etree, matplotlib, matplotlib.pyplot, numpy, openpyxl, pandas, pyarrow, scipy.stats
import seaborn
import statsmodels.genmod.generalized_linear_model, statsmodels.regression.linear_model
import statsmodels.regression.quantile_regression, statsmodels.stats.diagnostic
import statsmodels.stats.multitest, statsmodels.stats.rates, statsmodels.tsa.ar_model
import statsmodels.tsa.exponential_smoothing.ets, statsmodels.tsa.statespace.sarimax
"""
PARAMETERS = ("la = None\nyear = None\ndfe_dir = None\ncin_census = None\n"
              "population_dir = None\noutput_dir = None")


def floor(n: int, jobs: int, folder: Path) -> float:
    """Seconds to execute ``n`` import-only notebooks, ``jobs`` at a time, as the runner does."""
    notebook = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                                   new_code_cell(IMPORTS)])
    notebook.metadata["kernelspec"] = {"name": report.KERNEL, "display_name": "Python (cpstats)",
                                       "language": "python"}
    paths = []
    for i in range(n):
        path = folder / f"{i:02d}_floor.ipynb"
        nbformat.write(notebook, path)
        paths.append(path)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(report._execute, str(p), str(p.with_suffix(".out.ipynb")),
                               {"output_dir": None}, report.KERNEL, False) for p in paths]
        for future in futures:
            future.result()
    return time.perf_counter() - started


def default_report(jobs: int, out: Path) -> tuple[float, float, report.Outcome]:
    """(planning seconds, total seconds, outcome) of the default report."""
    started = time.perf_counter()
    runs = report.plan(out=out)
    planned = time.perf_counter() - started
    notebooks = report.find_notebooks()
    outcome = report.execute(runs, notebooks, jobs=jobs, progress=False)[0]
    if not outcome.ok:
        sys.exit(f"the default report failed: {outcome.error}")
    return planned, time.perf_counter() - started, outcome


def batch(count: str, jobs: int, out: Path) -> None:
    """Time a batch of LAs for 2016-17 from DfE data alone (the release in ../shared/data)."""
    dfe_dir = shared_data_dir() / "dfe" / "cin_2022"
    every = report.plan(["all"], ["2016-17"], dfe_dir=dfe_dir, out=out)
    runs = every if count == "all" else every[: int(count)]
    started = time.perf_counter()
    outcomes = report.execute(runs, report.find_notebooks(), jobs=jobs, progress=False)
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if not o.ok]
    print(f"batch of {len(runs)} LAs (2016-17, DfE data alone, {jobs} jobs): {seconds:.1f} s, "
          f"{seconds / len(runs):.1f} s per LA, {len(failed)} failed")
    for outcome in failed:
        print(f"  {outcome.run.label}: {outcome.error}")


def once(jobs: int, folder: Path) -> tuple[float, float, float, report.Outcome]:
    """(planning s, report s, floor s, outcome): the report and its floor timed back to back,
    so the ratio of one run holds however busy the machine is."""
    planned, total, outcome = default_report(jobs, folder / "reports")
    (folder / "floor").mkdir()
    base = floor(len(report.find_notebooks()), jobs, folder / "floor")
    return planned, total, base, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=report.usable_cores())
    parser.add_argument("--runs", type=int, default=3, help="report/floor pairs (median shown)")
    parser.add_argument("--batch", default="0", help="also time N LAs (or 'all') from DfE data")
    args = parser.parse_args()
    os.environ.update(report.THREAD_ENV)
    # The release-level work (the same for every LA) is cached once per release and input
    # change: warm it first, as any run after the first finds it.
    executors.prepare_years(None, None, [DEFAULT_YEAR], DEFAULT_LA)
    n = len(report.find_notebooks())
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        pairs = []
        for i in range(args.runs):
            (tmp_path / str(i)).mkdir()
            pairs.append(once(args.jobs, tmp_path / str(i)))
            planned, total, base, _ = pairs[-1]
            print(f"run {i + 1}: default report {total:.1f} s, floor {base:.1f} s, "
                  f"ratio {total / base:.2f}x")
        ratios = sorted(total / base for _, total, base, _ in pairs)
        planned, total, base, outcome = sorted(pairs, key=lambda p: p[1] / p[2])[len(pairs) // 2]
        print(f"default report ({n} notebooks, {args.jobs} jobs): {total:.1f} s (median run)")
        print(f"floor ({n} import-only notebooks, same kernel, {args.jobs} jobs): {base:.1f} s")
        print(f"ratio: {statistics.median(ratios):.2f}x (median of {len(ratios)} runs; goal 1.5x)")
        print("stages (each notebook's own time; notebooks overlap when jobs > 1):")
        print(f"  plan (check parameters, load published facts): {planned:.1f} s")
        for stage, seconds in sorted(outcome.timings.items()):
            if ":" in stage:
                print(f"  {stage}: {seconds:.1f} s")
        for stage in ("execute", "html", "assemble"):
            print(f"  {stage} (sum): {outcome.timings.get(stage, 0.0):.1f} s")
        if args.batch != "0":
            batch(args.batch, args.jobs, tmp_path / "batch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
