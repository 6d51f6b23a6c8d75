"""A pipe or a device where a file is expected (issue: hardening, case 6: a FIFO named
``pipe.csv`` in ``--dfe-dir`` hung ``report`` and ``check`` skipped it silently). Named directly
as an input or sitting in a release folder, it is refused at once with exit 2 naming it: every
command runs under a timeout, so a read that waits on the pipe fails the test instead of hanging.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

D1 = "d1_child_protection_plans_2013_to_2022.csv"
#: Seconds a refusal may take: planning reads nothing before it refuses.
PROMPT = 120


def _cpstats(*args: str) -> subprocess.CompletedProcess:
    """The CLI under a timeout: a hang raises TimeoutExpired and fails the test."""
    return subprocess.run([sys.executable, "-m", "cpstats.cli", *args], capture_output=True,
                          text=True, timeout=PROMPT, stdin=subprocess.DEVNULL)


def _special(kind: str, path: Path) -> Path:
    """A FIFO at ``path``, or a device: a character device like /dev/null made there when this
    user may (root in a container), else /dev/null itself."""
    if kind == "fifo":
        os.mkfifo(path)
        return path
    try:
        os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))
    except PermissionError:
        return Path("/dev/null")
    return path


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("option, name", [
    ("--cin-census", "return.xml"), ("--service", "service.csv"), ("--annex-a", "annex_a.xlsx"),
])
def test_report_refuses_a_special_file_named_as_an_input(option, name, kind, tmp_path):
    """Measured before: a FIFO as --cin-census was 'expected an existing CIN Census XML file or
    CSV folder', as --service or --annex-a 'an existing ... file': true, but not why."""
    special = _special(kind, tmp_path / name)
    out = tmp_path / "reports"
    reported = _cpstats("report", "--no-progress", option, str(special), "--out", str(out))
    assert reported.returncode == 2, reported.stderr
    assert f"parameter {option}: found '{special}" in reported.stderr
    assert "expected an ordinary file (this is a pipe, device or socket)" in reported.stderr
    assert "Traceback" not in reported.stderr and not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("name", ["return.xml", "table.csv"])
def test_check_refuses_a_special_file_named_directly(name, kind, tmp_path):
    special = _special(kind, tmp_path / name)
    checked = _cpstats("check", str(special))
    assert checked.returncode == 2
    assert f"{special}: not an ordinary file" in checked.stdout


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_special_file_in_the_release_folder_is_refused_by_check_and_report(kind, cin_2022,
                                                                             tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    shutil.copy(cin_2022 / D1, folder / D1)
    special = _special(kind, folder / "special.csv")
    if special.parent != folder:
        pytest.skip("this user cannot make a device node inside a folder")
    checked = _cpstats("check", str(folder))
    assert checked.returncode == 2
    assert "special.csv; expected an ordinary file (this is a pipe, device or socket)" in (
        checked.stdout)
    out = tmp_path / "reports"
    reported = _cpstats("report", "--no-progress", "--la", "825", "--dfe-dir", str(folder),
                        "--out", str(out))
    assert reported.returncode == 2 and not out.exists()
    assert "special.csv; expected an ordinary file (this is a pipe, device or socket)" in (
        reported.stderr)
