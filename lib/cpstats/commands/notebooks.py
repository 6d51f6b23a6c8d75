"""``cpstats notebooks refresh``: re-execute the stored notebooks in place with their default
parameters, so the outputs in git (what nbval compares) match the code."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``cpstats notebooks``."""
    parser = subparsers.add_parser(
        "notebooks", help="maintain the stored theme notebooks",
        description="Maintain the theme notebooks stored in notebooks/.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    refresh = actions.add_parser(
        "refresh", help="re-execute the stored notebooks in place (default parameters)",
        description="Re-execute each notebook in notebooks/ in place with its default parameters "
        "(the default run: Buckinghamshire 2016-17, nothing written to reports/), keeping the "
        "outputs nbval compares. Run after changing a notebook or the code it calls.")
    refresh.add_argument("notebooks", nargs="*", type=Path,
                         help="notebooks to refresh (default: every NN_*.ipynb in notebooks/)")
    refresh.set_defaults(func=run_refresh)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def run_refresh(args: argparse.Namespace) -> int:
    """Refresh the given (or all) notebooks."""
    from cpstats.report import find_notebooks, refresh_notebook

    for notebook in args.notebooks or find_notebooks():
        seconds = refresh_notebook(notebook)
        print(f"refreshed {notebook.name} ({seconds:.0f} s)")
    return 0
