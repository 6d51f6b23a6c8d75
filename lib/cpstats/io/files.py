"""Which files in an input folder a reader may open.

A special file (a FIFO, a device, a socket) would hang or stream forever when read: refused by
name. A symbolic link is followed only when it points inside the folder given, so an error
message can never echo a file the user did not name.
"""

from __future__ import annotations

import stat
from pathlib import Path

from cpstats.errors import InputError, Problem, display_path


def regular_files(folder: Path, pattern: str) -> list[Path]:
    """The files in ``folder`` matching ``pattern``, sorted.

    Raises
    ------
    InputError
        Naming each special file, and each link that leads outside ``folder``.
    """
    inside = folder.resolve()
    problems, files = [], []
    for path in sorted(folder.glob(pattern)):
        problem = problem_with(path, inside)
        if problem:
            problems.append(problem)
        elif path.is_file():
            files.append(path)
    if problems:
        raise InputError(problems)
    return files


def problem_with(path: Path, inside: Path | None = None) -> Problem | None:
    """Why ``path`` may not be read (a special file, or a link leading outside ``inside``), or
    ``None`` when it is an ordinary file or folder."""
    name = display_path(path)
    if path.is_symlink() and inside is not None and not path.resolve().is_relative_to(inside):
        return Problem(file=name, expected="a file inside the folder given (this link leads "
                                           "outside it)")
    try:
        mode = path.stat().st_mode
    except OSError:
        return Problem(file=name, expected="a file that can be read (a broken link?)")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return Problem(file=name, expected="an ordinary file (this is a pipe, device or socket)")
    return None
