"""Subcommands of ``cpstats``. Each module here defines ``register(subparsers)``,
which adds its parser and sets ``func`` (taking the parsed args, returning an
exit status). :mod:`cpstats.cli` discovers them, so adding a command touches
no other file."""
