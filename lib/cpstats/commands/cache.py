"""``cpstats cache``: the release-level cache (:mod:`cpstats.release_cache`): where it is, what
it holds, and emptying it."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cpstats cache``."""
    parser = subparsers.add_parser(
        "cache", help="show or empty the cache of release-level work",
        description="Work that is the same for every LA of a DfE release (the pooled annual "
        "forecast and its backtests, cross-council correlations) is computed once and kept in "
        "$CPSTATS_CACHE_DIR (default ~/.cache/cpstats), keyed by a hash of the input files and "
        "of cpstats itself. It holds published statistics only, and the default run's synthetic "
        "county (generated records of no real child); never a council's return.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("info", help="where the cache is and what it holds").set_defaults(
        func=run_info)
    actions.add_parser("clear", help="empty the cache").set_defaults(func=run_clear)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_info(args: argparse.Namespace) -> int:  # noqa: ARG001 -- the command's signature
    """Print the cache folder and one line per release kept."""
    from cpstats import release_cache

    table = release_cache.info()
    print(f"cache: {release_cache.cache_root()}")
    for row in table.itertuples(index=False):
        print(f"  {row.release}: {row.entries} entries, {row.bytes / 1e6:.1f} MB")
    releases = (table["release"] != release_cache.SYNTHETIC).sum()
    print(f"{releases} releases, {table['bytes'].sum() / 1e6:.1f} MB")
    return 0


def run_clear(args: argparse.Namespace) -> int:  # noqa: ARG001 -- the command's signature
    """Empty the cache."""
    from cpstats import release_cache

    removed = release_cache.clear()
    print(f"removed {removed} cached releases from {release_cache.cache_root()}")
    return 0
