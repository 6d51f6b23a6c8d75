"""``cpstats reference build``: rebuild the shipped extract of published figures."""

from __future__ import annotations

import argparse

from cpstats import reference
from cpstats.errors import display_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reference`` subcommand."""
    parser = subparsers.add_parser(
        "reference",
        help="rebuild data/reference/ (the published figures the default report uses)",
        description="Manage the reference extract: published DfE 'Characteristics of children in "
        "need' figures and ONS child populations for England, the LA's region, the LA and its "
        "ten statistical neighbours, and a few measures for every LA, years ending 31 March 2013 "
        "onwards.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="rebuild the extract from published files",
        description="Read a DfE CIN release and the ONS population file, keep what the default "
        "report needs and write data/reference/facts.csv, all_las.csv and the Census 2011 "
        "children-by-ethnic-group extract (sorted, fixed float "
        "format: rebuilding from the same files gives identical bytes). Defaults read "
        "../shared/data.",
    )
    build.add_argument("--dfe-dir", metavar="DIR",
                       help="DfE CIN release folder (default ../shared/data/dfe/cin_2022)")
    build.add_argument("--population-dir", metavar="DIR",
                       help="folder or file of ONS mid-year estimates (default ../shared/data/ons)")
    build.add_argument("--census-dir", metavar="DIR",
                       help="Census 2011 DC2101EW folder (default ../shared/data/census)")
    build.add_argument("--out", metavar="DIR", help="output folder (default data/reference)")
    build.add_argument("--la", default=reference.DEFAULT_LA, metavar="CODE_OR_NAME",
                       help="LA whose region and statistical neighbours are kept (default 825)")
    build.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Build and write the extract; print what was written."""
    facts = reference.build_reference(args.dfe_dir, args.population_dir, args.la)
    all_las = reference.build_all_las(args.dfe_dir, args.population_dir)
    path = reference.write_reference(facts, args.out)
    areas = facts["geography_code"].nunique()
    print(f"wrote {display_path(path)}: {len(facts):,} facts, {areas} areas, "
          f"{path.stat().st_size / 1024:.0f} KiB")
    path = reference.write_all_las(all_las, args.out)
    print(f"wrote {display_path(path)}: {all_las['geography_code'].nunique()} LAs, "
          f"{len(all_las):,} LA-years, {len(reference.ALL_LA_MEASURES)} measures, "
          f"{path.stat().st_size / 1024:.0f} KiB")
    census = reference.build_census_extract(args.census_dir)
    path = reference.write_census_extract(census, args.out)
    print(f"wrote {display_path(path)}: children 0-17 by ethnic group, {len(census)} areas, "
          f"{path.stat().st_size / 1024:.0f} KiB")
    if not facts.attrs.get("populations"):
        print("populations not included: cpstats.io.population is not available")
    return 0
