"""``cpstats check PATH...``: validate inputs and list every problem."""

from __future__ import annotations

import argparse
import sys

from cpstats.checks import check_paths, supported_formats
from cpstats.errors import EXIT_BAD_INPUT, display_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="validate input files or folders and list every problem",
        description="Read each input (files, or folders searched recursively) with the reader "
        "for its format and list every problem: file, row or element, column, value and what "
        "was expected. Exit status 0 when every file is recognised and clean, 2 otherwise.",
        epilog="Supported formats:\n" + supported_formats(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file or folder to check")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every path; print a line per file and every problem."""
    reports = check_paths(args.paths)
    problems = 0
    for report in reports:
        status = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"{display_path(report.path)}: {report.summary} -- {status}")
        for problem in report.problems:
            print(f"  - {problem}")
        problems += len(report.problems)
    recognised = sum(r.checker is not None for r in reports)
    print(f"{len(reports)} file(s), {recognised} recognised, {problems} problem(s)")
    if any(r.checker is None for r in reports):
        print("Supported formats:\n" + supported_formats(), file=sys.stderr)
    return 0 if reports and all(r.ok for r in reports) else EXIT_BAD_INPUT
