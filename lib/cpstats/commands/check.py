"""``cpstats check PATH...``: validate inputs and list every problem."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from cpstats import checks
from cpstats.checks import check_paths, supported_formats
from cpstats.errors import EXIT_BAD_INPUT, display_path

#: Packages whose every module may register formats, and single modules that do.
READER_PACKAGES = ("cpstats.io",)
READER_MODULES = ("cpstats.reference",)


def discover() -> list[str]:
    """Import every reader module, so each registers the formats it reads with
    :mod:`cpstats.checks` (a module that fails to import is noted there, and the others still
    load). Returns the modules imported."""
    names = list(READER_MODULES)
    for package in READER_PACKAGES:
        path = importlib.import_module(package).__path__
        names += [f"{package}.{info.name}"
                  for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name)]
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # one broken reader must not disable the others
            checks.note_unloadable(name, error)
        else:
            loaded.append(name)
    return loaded


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    discover()
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
    discover()
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
