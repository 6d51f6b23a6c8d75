"""``cpstats synth``: write the synthetic county's CIN Census returns."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
from pathlib import Path

from cpstats import synth
from cpstats.errors import ParameterError, display_path
from cpstats.io.cin_census_writer import write_return, write_returns
from cpstats.paths import SYNTHETIC_DIR

#: Children per return year in the default county (scale 1: 32,400 over 2013-2017), to turn
#: --children into a scale.
CHILDREN_PER_YEAR_AT_SCALE_1 = 6_480


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``synth`` to the ``cpstats`` command."""
    parser = subparsers.add_parser(
        "synth",
        help="write a synthetic county's CIN Census returns (XML)",
        description="Generate a synthetic county's child-level CIN Census records, calibrated "
        "to the Buckinghamshire report (children on plans at 31 March 2015-2017, the 2016-17 "
        "referral/s47/ICPC/plan volumes and the 2017 mixes), and write one XML return per "
        "year ending 31 March. The same seed always gives the same files. No real child is "
        "in them, and every figure derived from them is labelled synthetic.",
    )
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED,
                        help=f"random seed (default {synth.DEFAULT_SEED})")
    parser.add_argument("--la", default=synth.DEFAULT_LA,
                        help="DfE three-digit LA number written in the returns (default 825)")
    parser.add_argument("--years", default="{}-{}".format(*synth.DEFAULT_YEARS),
                        help="first-last years ending 31 March, e.g. 2013-2017 (the default)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default data/synthetic/; earlier cin_census_*.xml "
                        "returns there are replaced), or a .xml file for one combined return "
                        "holding the whole history")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=1.0,
                      help="multiply every volume (default 1: about 32,000 children)")
    size.add_argument("--children", type=int, default=None,
                      help="approximate number of children (sets --scale)")
    parser.add_argument("--quiet", action="store_true", help="print only the files written")
    parser.set_defaults(func=run)


def parse_years(text: str) -> tuple[int, int]:
    """``"2013-2017"`` -> ``(2013, 2017)``; one year ``"2017"`` -> ``(2017, 2017)``."""
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", str(text))
    if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
        raise ParameterError("--years", text, "first-last years ending March, e.g. 2013-2017")
    first = int(m.group(1))
    return first, int(m.group(2) or first)


def run(args: argparse.Namespace) -> int:
    """Generate and write; print the calibration check unless ``--quiet``."""
    if not re.fullmatch(r"\d{3}", str(args.la)):
        raise ParameterError("--la", args.la, "a DfE three-digit LA number such as 825")
    years = parse_years(args.years)
    per_scale = CHILDREN_PER_YEAR_AT_SCALE_1 * (years[1] - years[0] + 1)
    scale = args.scale if args.children is None else args.children / per_scale
    county = synth.generate(seed=args.seed, la_code=str(args.la), years=years, scale=scale)
    out = args.out if args.out is not None else SYNTHETIC_DIR
    written = _write(county, Path(out))
    for path in written:
        print(display_path(path))
    if not args.quiet:
        data = county.data
        print(f"synthetic county: LA {data.la_code}, seed {county.seed}, scale {scale:g}, "
              f"{len(data.children):,} children, {len(data.referrals):,} referrals, "
              f"{len(data.cp_plans):,} plans (not real data)")
        if county.years[1] == 2017 and data.la_code == synth.DEFAULT_LA:
            check = synth.calibration(data, scale)
            print(check.to_string(index=False))
    return 0


def _write(county: synth.SyntheticCounty, out: Path) -> list[Path]:
    """Write into a temporary folder first, so a failure leaves no partial returns."""
    if out.suffix.lower() == ".xml":
        return [write_return(county.data, out, la_child_ids=county.la_child_ids, upns=county.upns,
                             whole_history=True)]
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=out))
    try:
        made = write_returns(county.data, tmp, county.years, la_child_ids=county.la_child_ids,
                             upns=county.upns)
        for stale in set(out.glob("cin_census_*.xml")) - {out / p.name for p in made}:
            stale.unlink()
        final = []
        for path in made:
            target = out / path.name
            os.replace(path, target)
            final.append(target)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
