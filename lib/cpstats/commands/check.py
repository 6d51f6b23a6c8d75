"""``cpstats check PATH...``: validate inputs and list every problem.

``cpstats check --rules dfe RETURN...`` runs DfE's CIN Census validation rules instead
(:mod:`cpstats.rules`, the rule set of each return's collection year) and prints, per
return, a table by rule code with the number of children failing each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cpstats.checks import check_paths, supported_formats
from cpstats.errors import EXIT_BAD_INPUT, InputError, Problem, display_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="validate input files or folders and list every problem",
        description="Read each input (files, or folders searched recursively) with the reader "
        "for its format and list every problem: file, row or element, column, value and what "
        "was expected. Exit status 0 when every file is recognised and clean, 2 otherwise. "
        "With --rules dfe, run DfE's CIN Census validation rules on CIN Census returns and "
        "print a table by rule code (exit 2 when a child fails an error rule; queries only "
        "inform).",
        epilog="Supported formats:\n" + supported_formats(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file or folder to check")
    parser.add_argument("--rules", choices=["cpstats", "dfe"], default="cpstats",
                        help="cpstats: every format's own checks (default); dfe: DfE's CIN "
                        "Census validation rules, by rule code, on CIN Census XML returns")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check every path; print a line per file and every problem."""
    if getattr(args, "rules", "cpstats") == "dfe":
        return run_dfe(args.paths)
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


# --------------------------------------------------------------------------- --rules dfe
def run_dfe(paths: list[str]) -> int:
    """DfE's rules on every CIN Census return among ``paths`` (XML files; folders searched).

    Returns
    -------
    int
        0 when no child fails an error rule in any return, 2 otherwise (or when a file is
        not a readable return).
    """
    files = _returns(paths)
    status = 0 if files else EXIT_BAD_INPUT
    for path in files:
        status = max(status, _dfe_one(path))
    if not files:
        print("no CIN Census return (.xml) found in: " + ", ".join(map(str, paths)))
    return status


def _returns(paths: list[str]) -> list[Path]:
    found = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(Problem(file=display_path(path), expected="an existing file or folder"))
        found += [path] if path.is_file() else sorted(
            p for p in path.rglob("*.xml")
            if not any(part.startswith(".") for part in p.relative_to(path).parts))
    return found


def _dfe_one(path: Path) -> int:
    """Print one return's table by rule code; its exit status."""
    from cpstats import rules
    from cpstats.io.cin_census import read_cin_census  # lazy: the readers are heavy

    shown = display_path(path)
    if path.suffix.lower() != ".xml":
        print(f"{shown}: not checked -- expected a CIN Census return, an .xml file")
        return EXIT_BAD_INPUT
    try:
        data = read_cin_census(path, keep_rejected=True)
    except InputError as error:
        print(f"{shown}: unreadable -- {len(error.problems)} problem(s)")
        for problem in error.problems:
            print(f"  - {problem}")
        return EXIT_BAD_INPUT
    census = rules.Census.of(data)
    table = rules.run(census)
    own = data.summary.problems
    print(f"{shown}: CIN Census return for {census.start:%Y-%m-%d} to "
          f"{census.reference_date:%Y-%m-%d} (LA {data.la_code or '?'}), "
          f"{len(data.children):,} children; DfE rules of collection year {census.year} "
          f"({len(table)} rules)")
    print(_format(table))
    errors = table.loc[table["kind"] == rules.ERROR, "children"].sum()
    print(f"  children failing any rule: {table.attrs['children']:,}")
    print(f"  cpstats' own checks: {_own(own)} (run without --rules dfe to list them)")
    return EXIT_BAD_INPUT if errors else 0


def _own(problems: list) -> str:
    """cpstats' problems counted by rule, with the DfE rule each also breaks."""
    if not problems:
        return "no problems"
    counts: dict[str, int] = {}
    for problem in problems:
        name = problem.rule + (f" (DfE {problem.dfe_code})" if problem.dfe_code else "")
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{name} {n:,}" for name, n in sorted(counts.items()))


def _format(table) -> str:
    """The rule table as aligned text: code, kind, children, records, message."""
    lines = [f"  {'rule':<6} {'kind':<5} {'children':>8} {'records':>8}  message"]
    for row in table.itertuples(index=False):  # one line per rule (a few dozen)
        lines.append(f"  {row.code:<6} {row.kind:<5} {row.children:>8,} {row.records:>8,}  "
                     f"{row.message}")
    return "\n".join(lines)
