"""``cpstats headline``: the trends theme's figures in the terminal, sources side by side."""

from __future__ import annotations

import argparse
import sys

from cpstats.headline import format_headline, headline_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``headline`` subcommand."""
    parser = subparsers.add_parser(
        "headline",
        help="print the headline figures (report figures beside DfE's published ones)",
        description="Print one LA's headline child protection figures for a year ending 31 March, "
        "as the trends theme (notebook 01_trends) states them: the seed report's figures "
        "(Buckinghamshire 2016-17), DfE's published figures and those cpstats derives from them "
        "(changes, rates on the ONS row the pairing rule picks, shares), one column per source, "
        "with notes on how derived figures were made. Defaults: Buckinghamshire, 2016-17, from "
        "the data shipped in data/.",
    )
    parser.add_argument("--la", default=None, metavar="CODE_OR_NAME",
                        help="DfE LA number, GSS code or name (default 825, Buckinghamshire)")
    parser.add_argument("--year", default=None, metavar="YEAR",
                        help="year ending 31 March, 2017 or 2016-17 (default 2017)")
    parser.add_argument("--dfe-dir", metavar="DIR",
                        help="read a DfE CIN release folder instead of data/reference "
                        "(needed for LAs outside the shipped extract)")
    parser.add_argument("--population-dir", metavar="DIR",
                        help="ONS mid-year estimates file or folder (default: the shipped one)")
    parser.add_argument("--cin-census", nargs="+", metavar="FILE_OR_DIR",
                        help="the LA's CIN Census return(s), for the child-level figures")
    parser.add_argument("--service", metavar="FILE",
                        help="service settings CSV (setting,value: chair_fte, caseload_target)")
    parser.add_argument("--csv", action="store_true", help="print the table as CSV instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute the trends theme for the run and print its figures."""
    from cpstats.inputs import resolve
    from cpstats.themes import ThemeData

    inputs = resolve(args.la, args.year, args.dfe_dir, args.cin_census, args.population_dir,
                     args.service)
    table = headline_table(ThemeData(inputs))
    if args.csv:
        table.to_csv(sys.stdout, index=False, lineterminator="\n", float_format="%.10g")
    else:
        print(format_headline(table))
    return 0
