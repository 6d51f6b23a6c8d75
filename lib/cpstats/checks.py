"""Input checks behind ``cpstats check``: a registry of file formats.

Each reader module registers the formats it knows at import time::

    from cpstats.checks import register_checker
    register_checker("ons_population", recognises=looks_like_ons, check=problems_in,
                     description="ONS mid-year population estimates, children 0-17 (CSV)")

:func:`check_paths` gives each file to the first checker that recognises it and
collects every problem. This module imports no reader (the readers import it): the
command layer imports them all first (:func:`cpstats.commands.check.discover`, every
``cpstats.io.*`` module, so a new reader registers itself without editing any list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cpstats.errors import InputError, Problem, display_path
from cpstats.io.files import problem_with

#: Files a folder walk skips: documentation, not data.
SKIPPED_SUFFIXES = (".md", ".txt", ".rst", ".html", ".pdf", ".xsd")


@dataclass(frozen=True)
class Checker:
    """One supported input format."""

    name: str
    recognises: Callable[[Path], bool]
    check: Callable[[Path], list[Problem]]
    description: str
    #: Optional one-line summary of a recognised file ("table d1 ..., 1,638 rows").
    describe: Callable[[Path], str] | None = None


@dataclass
class FileReport:
    """What ``cpstats check`` found in one file."""

    path: Path
    checker: Checker | None
    problems: list[Problem] = field(default_factory=list)
    summary: str = ""

    @property
    def ok(self) -> bool:
        return self.checker is not None and not self.problems


_REGISTRY: dict[str, Checker] = {}
_IMPORT_FAILURES: dict[str, str] = {}


def problems_when_reading(read: Callable[[Path], object]) -> Callable[[Path], list[Problem]]:
    """A ``check`` for :func:`register_checker` that reads the file with ``read``: the problems
    of the :class:`~cpstats.errors.InputError` it raises, or none."""

    def check(path: Path) -> list[Problem]:
        try:
            read(path)
        except InputError as error:
            return error.problems
        return []

    return check


def register_checker(name: str, recognises: Callable[[Path], bool],
                     check: Callable[[Path], list[Problem]], description: str,
                     describe: Callable[[Path], str] | None = None) -> Checker:
    """Add (or replace, by ``name``) a supported input format.

    Parameters
    ----------
    name
        Short unique name, e.g. ``"dfe_cin"``.
    recognises
        True when a path is in this format (cheap: look at the suffix and header only).
    check
        Every problem in the file (empty list when clean); must not raise for bad content.
    description
        One line for users, e.g. "DfE Characteristics of children in need table (CSV)".
    describe
        Optional one-line summary of a recognised file for the per-file report.
    """
    checker = Checker(name, recognises, check, description, describe)
    _REGISTRY[name] = checker
    return checker


def checkers() -> list[Checker]:
    """Every registered format (those of the reader modules imported so far)."""
    return list(_REGISTRY.values())


def note_unloadable(module: str, error: BaseException) -> None:
    """Record a reader module that failed to import, so an unrecognised file's message says
    which formats may be missing."""
    _IMPORT_FAILURES[module] = f"{type(error).__name__}: {error}"


def supported_formats() -> str:
    """The formats ``cpstats check`` knows, one per line."""
    return "\n".join(f"  {c.name}: {c.description}" for c in checkers())


def check_file(path: str | Path) -> FileReport:
    """Check one file with the first checker that recognises it."""
    path = Path(path)
    special = problem_with(path)
    if special is not None:
        return FileReport(path, None, [special], "not an ordinary file")
    if path.stat().st_size == 0:
        return FileReport(path, None, [Problem(file=display_path(path), expected=(
            "a file with data in a supported format; the file is empty"))], "empty file")
    for checker in checkers():
        if _safely(checker.recognises, path, default=False):
            return _run(checker, path)
    names = ", ".join(c.name for c in checkers())
    expected = f"a file in a supported format ({names}; see 'cpstats check --help')"
    if _IMPORT_FAILURES:
        expected += f"; readers that failed to load: {', '.join(sorted(_IMPORT_FAILURES))}"
    return FileReport(path, None, [Problem(file=display_path(path), expected=expected)],
                      "not recognised")


def check_paths(paths: Iterable[str | Path]) -> list[FileReport]:
    """Check files and folders (recursively, skipping hidden files and documentation).

    Raises
    ------
    InputError
        When a path does not exist.
    """
    reports = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(Problem(file=display_path(path), expected="an existing file or folder"))
        files = _data_files(path) if path.is_dir() else [path]
        reports += [check_file(f) for f in files]
    return reports


def _data_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if not p.is_dir()  # special files too: reported, never skipped silently
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.suffix.lower() not in SKIPPED_SUFFIXES
    )


def _run(checker: Checker, path: Path) -> FileReport:
    try:
        problems = list(checker.check(path))
    except InputError as error:
        problems = error.problems
    except Exception as error:  # a checker bug must not hide the other files' results
        problems = [Problem(file=display_path(path),
                            expected=f"a file the {checker.name} checker can read "
                                     f"({type(error).__name__}: {error})")]
    summary = _safely(checker.describe, path, default="") if checker.describe else ""
    return FileReport(path, checker, problems, summary or checker.description)


def _safely(function: Callable[[Path], object], path: Path, default: object) -> object:
    try:
        return function(path)
    except Exception:  # recognisers and summaries are best effort
        return default

