"""``cpstats headline``: the report's headline figures beside DfE's and derived ones."""

from __future__ import annotations

import argparse
import sys

from cpstats.headline import default_facts, facts_from_files, format_headline, headline_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``headline`` subcommand."""
    parser = subparsers.add_parser(
        "headline",
        help="print the headline table (report figures beside DfE's published ones)",
        description="Print one LA's headline child protection figures for a year ending 31 March: "
        "the seed report's figures (Buckinghamshire 2016-17), DfE's published figures and "
        "cpstats' derived ones (rate per 10,000 on the ONS row the pairing rule picks, changes "
        "on the previous year), with notes on how each was made. Defaults: Buckinghamshire, "
        "2016-17, from the data shipped in data/.",
    )
    parser.add_argument("--la", default="825", metavar="CODE_OR_NAME",
                        help="DfE LA number, GSS code or name (default 825, Buckinghamshire)")
    parser.add_argument("--year", default="2017", metavar="YEAR",
                        help="year ending 31 March, 2017 or 2016-17 (default 2017)")
    parser.add_argument("--dfe-dir", metavar="DIR",
                        help="read a DfE CIN release folder instead of data/reference "
                        "(needed for LAs outside the shipped extract)")
    parser.add_argument("--population-dir", metavar="DIR",
                        help="ONS mid-year estimates file or folder (with --dfe-dir; default "
                        "../shared/data/ons)")
    parser.add_argument("--csv", action="store_true", help="print the table as CSV instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the table and print it."""
    facts = facts_from_files(args.dfe_dir, args.population_dir) if args.dfe_dir else default_facts()
    table = headline_table(args.la, args.year, facts=facts)
    if args.csv:
        table.to_csv(sys.stdout, index=False, lineterminator="\n", float_format="%.10g")
    else:
        print(format_headline(table))
    return 0
