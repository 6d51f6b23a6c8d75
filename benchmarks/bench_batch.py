"""Seconds per LA-year of a batch of reports from a DfE release, with the local executor (a
process pool) and with Dask on a two-worker ``LocalCluster``, and the hours that projects for
every LA and every year (152 x 10 reports).

Each executor starts from an empty release-level cache of its own, so its time includes the
release task (the pooled annual forecast and backtests, done once for the batch). Not a test:
run it with ``make bench`` or ``python benchmarks/bench_batch.py --las 20``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from cpstats import report
from cpstats.paths import shared_data_dir

#: Reports of every LA for every year of a ten-year release.
EVERY_LA_YEAR = 152 * 10


def batch(executor: str, las: int, jobs: int, folder: Path) -> tuple[float, int, list[str]]:
    """(seconds, reports, failures) of ``las`` LAs for 2016-17 on ``executor``."""
    os.environ["CPSTATS_CACHE_DIR"] = str(folder / "cache")
    dfe_dir = shared_data_dir() / "dfe" / "cin_2022"
    every = report.plan(["all"], ["2016-17"], dfe_dir=dfe_dir, out=folder / "reports")
    runs = every[:: max(1, len(every) // las)][:las]  # spread over the alphabet, not the first
    started = time.perf_counter()
    outcomes = report.execute(runs, report.find_notebooks(), jobs=jobs, progress=False,
                              executor=executor)
    seconds = time.perf_counter() - started
    return seconds, len(runs), [f"{o.run.label}: {o.error}" for o in outcomes if not o.ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--las", type=int, default=20, help="LAs in the batch (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="workers (default 2)")
    parser.add_argument("--executors", default="local,dask", help="comma-separated")
    args = parser.parse_args()
    os.environ.update(report.THREAD_ENV)
    for executor in args.executors.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, n, failed = batch(executor, args.las, args.jobs, Path(tmp))
        per = seconds / n
        where = "process pool" if executor == "local" else "two-worker LocalCluster" \
            if args.jobs == 2 else f"{args.jobs}-worker LocalCluster"
        print(f"{executor} ({where}, {args.jobs} jobs): {n} LAs x 2016-17 in {seconds:.0f} s = "
              f"{per:.1f} s per LA-year, {len(failed)} failed; 152 x 10 would take "
              f"{per * EVERY_LA_YEAR / 3600:.1f} h on {args.jobs} cores")
        for line in failed:
            print(f"  FAILED {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
