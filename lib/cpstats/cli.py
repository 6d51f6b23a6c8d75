"""The ``cpstats`` command. Subcommands live in :mod:`cpstats.commands`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from cpstats import __version__, commands
from cpstats.errors import EXIT_BAD_INPUT, InputError


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand found in :mod:`cpstats.commands`."""
    parser = argparse.ArgumentParser(
        prog="cpstats",
        description="Child protection statistics for English local authorities: "
        "reports, forecasts, synthetic data and input checks.",
    )
    parser.add_argument("--version", action="version", version=f"cpstats {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cpstats``; bad input gives one clear message and exit status 2, Ctrl-C exit 130."""
    command = "cpstats"
    try:  # building the parser imports every command (seconds): Ctrl-C then is exit 130 too
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_BAD_INPUT
        command = f"cpstats {args.command}"
        return int(args.func(args) or 0)
    except InputError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
