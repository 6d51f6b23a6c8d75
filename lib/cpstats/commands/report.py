"""``cpstats report``: the annual child protection report for one or more LAs and years."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cpstats import executors, report


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cpstats report``."""
    parser = subparsers.add_parser(
        "report",
        help="write the child protection report (default: Buckinghamshire 2016-17)",
        description="Execute the theme notebooks for an LA and year into "
        "<out>/<la>/<year>/: executed notebooks, HTML with and without code, figures, tables "
        "(CSV and one tables.xlsx), results.csv and index.html. With no options: Buckinghamshire "
        "(825), 2016-17, from the data shipped in data/. Every parameter is checked before any "
        "notebook starts; a failed run leaves any earlier report untouched.",
    )
    parser.add_argument("--la", action="append", metavar="CODE_OR_NAME",
                        help="LA number (825) or name; repeat for several, or 'all' for every LA "
                        "with data for the year(s)")
    parser.add_argument("--year", action="append", metavar="YEAR",
                        help="year ending 31 March: 2017 or 2016-17; repeat for several, or "
                        "'all' for every year the data hold")
    parser.add_argument("--dfe-dir", type=Path, metavar="DIR",
                        help="folder of a DfE 'Characteristics of children in need' release "
                        "(default: the reference extract in data/reference/)")
    parser.add_argument("--cin-census", type=Path, nargs="+", metavar="FILE_OR_DIR",
                        help="the LA's own CIN Census return(s), XML; enables child-level analyses "
                        "(default for Buckinghamshire alone: the synthetic county, generated records "
                        "standing in for a return)")
    parser.add_argument("--population-dir", type=Path, metavar="DIR",
                        help="folder with ONS mid-year population estimates (default: data shipped)")
    parser.add_argument("--service", type=Path, metavar="FILE",
                        help="the LA's service settings, a CSV with columns setting,value: "
                        "chair_fte (full-time-equivalent conference chairs) and caseload_target "
                        "(children per full-time chair); without it chair figures come from the "
                        "council's transcribed report where there is one, else are left out")
    parser.add_argument("--annex-a", type=Path, metavar="FILE.xlsx",
                        help="the LA's Ofsted Annex A workbook (child-level lists up to its "
                        "extract date): the themes its lists support run from it, up to that "
                        "date; with --cin-census the returns are brought up to the extract date. "
                        "Without --year the report is for the year holding the extract date")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="root folder of the reports (default: reports/); each report goes to "
                        "<out>/<la>/<year>/")
    parser.add_argument("--jobs", type=int, metavar="N", default=None,
                        help=f"notebooks run in parallel (default: usable cores, here "
                        f"{report.usable_cores()})")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing report folder (never done without it)")
    parser.add_argument("--resume", action="store_true",
                        help="keep reports already complete for the same inputs (same LA, year "
                        "and input files) instead of running them again")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="where reports run: 'local' (a process pool here, the default) or "
                        "'dask' (Dask distributed; needs pip install -e '.[dask]')")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="with --executor dask: the scheduler to use, e.g. tcp://host:8786 "
                        "(default: start a LocalCluster of --jobs workers); workers must see the "
                        "input files at the same paths")
    parser.add_argument("--notebooks-dir", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Plan (checking everything), execute, print a summary; non-zero if any run failed."""
    from cpstats.errors import ParameterError

    if args.jobs is not None and args.jobs < 1:
        raise ParameterError("--jobs", args.jobs, "a whole number of 1 or more")
    executors.check(args.executor, args.scheduler)
    notebooks = report.find_notebooks(args.notebooks_dir)
    runs = report.plan(args.la, args.year, dfe_dir=args.dfe_dir, cin_census=args.cin_census,
                       population_dir=args.population_dir, service=args.service,
                       annex_a=args.annex_a, out=args.out,
                       force=args.force, resume=args.resume)
    outcomes = report.execute(runs, notebooks, jobs=args.jobs, progress=not args.no_progress,
                              executor=args.executor, scheduler=args.scheduler)
    print(report.summary(outcomes), file=sys.stderr if any(not o.ok for o in outcomes) else sys.stdout)
    if len(runs) > 1:  # a batch: every report's results in one file, one page linking them
        import pandas as pd

        from cpstats import national

        folder = national.write(runs[0].out_dir.parent.parent, runs[0].parameters.get("dfe_dir"),
                                runs[0].parameters.get("population_dir"))
        print(f"national results and index: {folder}")
        written = pd.DataFrame([(o.run.la_code, str(o.run.parameters["year"])) for o in outcomes
                                if o.ok], columns=["report_la_code", "report_year"])
        problems = national.check_each_once(folder, written, unasked=False)
        for problem in problems:  # a report held twice or lost: the file is not to be trusted
            print(f"national results file: {problem}", file=sys.stderr)
        if problems:
            return 1
    return 0 if all(o.ok for o in outcomes) else 1
