"""Input problems: one clear message naming file, row, column and value.

Readers raise :class:`InputError` (one or many :class:`Problem`); the CLI turns
it into a message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    ``row`` is 1-based counting the header as row 1 (as a spreadsheet shows it);
    for XML, ``element`` names the element and ``child`` the hashed child ID.
    """

    file: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    element: str | None = None
    child: str | None = None
    line: int | None = None  # line in a text file (XML), where rows do not apply

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.child is not None:
            where.append(f"child {self.child}")
        if self.element is not None:
            where.append(f"element <{self.element}>")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        found = f": found {self.value!r}" if self.value is not None else ""
        return f"{', '.join(where)}{found}; expected {self.expected}"


class InputError(Exception):
    """Bad input: carries every problem found, not just the first."""

    def __init__(self, problems: Problem | Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="(input)", expected=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ParameterError(InputError):
    """A bad command-line or notebook parameter (unknown LA, year without data...)."""

    def __init__(self, parameter: str, value: object, expected: str):
        super().__init__(Problem(file=f"parameter {parameter}", value=str(value), expected=expected))


def display_path(path: str | Path) -> str:
    """A path as the user would recognise it (relative to the working directory if inside it)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
