"""A careless or hostile user against the report runner: concurrent runs, killed runs, output
folders that cannot be, and traces a run must not leave (issue: hardening).

Each case is a regression test with its expected exit status and message. Tiny notebooks (a
notebooks folder of their own) keep every run to one kernel start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpstats import runfolder
from tests.tiny_notebooks import write_notebook as _notebook


def _cpstats(*args: str, wait: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess | subprocess.Popen:
    command = [sys.executable, "-m", "cpstats.cli", "report", "--no-progress", *args]
    environment = {**os.environ, **(env or {})}
    if not wait:  # in a process group of its own, Ctrl-C at its default as in a terminal
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, env=environment,
                                preexec_fn=_interruptible)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)


def _interruptible() -> None:
    """SIGINT at its default in the started run, whatever the test runner's: a shell's
    background job (a CI script's) ignores it, and so would the run, finishing with exit 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _common(notebooks: Path, out: Path) -> list[str]:
    return ["--notebooks-dir", str(notebooks), "--out", str(out)]


def test_a_second_run_into_a_folder_being_written_is_refused_at_once(notebooks, tmp_path):
    out = tmp_path / "reports"
    target = out / "buckinghamshire" / "2016-17"
    with runfolder.ReportLock(target):
        started = time.perf_counter()
        result = _cpstats(*_common(notebooks, out))
        took = time.perf_counter() - started
    assert result.returncode == 2
    assert "--out" in result.stderr and f"cpstats run {os.getpid()}" in result.stderr
    assert took < 60 and not target.exists()


def test_temporary_files_go_to_the_run_s_folder_and_back(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path / "system"))
    monkeypatch.delenv("JUPYTER_RUNTIME_DIR", raising=False)
    before = tempfile.gettempdir()
    scratch = tmp_path / "run" / "tmp"
    scratch.parent.mkdir()
    with runfolder.temporary_files_in(scratch):
        made = Path(tempfile.mkstemp(".json")[1])  # where a kernel's connection file goes
        assert os.environ["JUPYTER_RUNTIME_DIR"] == os.environ["TMPDIR"] == str(scratch)
    assert made.parent == scratch and scratch.stat().st_mode & 0o077 == 0
    assert tempfile.gettempdir() == before and os.environ["TMPDIR"] == str(tmp_path / "system")
    assert "JUPYTER_RUNTIME_DIR" not in os.environ


def test_a_ctrl_c_in_a_deferred_step_is_raised_once_the_step_is_done():
    done = []
    # Python's own handler, as in a run started from a terminal (this test runner's may differ).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with runfolder.interrupt_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)  # the handler has run by now: without deferral, raised here
                done.append("the whole step")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert done == ["the whole step"]


def _council_return(folder: Path) -> Path:
    """A small return written as a council's own (child-level records to leave no trace of)."""
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return
    from tests.hostile.test_smaller import as_council

    county = synth.generate(years=(2017, 2017), scale=0.01)
    return write_return(as_council(county.data), folder / "cin_2017.xml",
                        la_child_ids=county.la_child_ids)


def _slow_run_started(notebooks: Path, common: list[str], env: dict[str, str], target: Path,
                      running: bool = False) -> subprocess.Popen:
    """A ``--force`` run into ``target`` whose second notebook sleeps for a minute, once it has
    made its temporary report folder; with ``running``, once that notebook's cell runs (it
    makes a file beside ``notebooks``): its kernels have started and written their connection
    files (tens of seconds on a loaded machine, one on an idle one)."""
    marker = notebooks.parent / "slow-cell-started"
    _notebook(notebooks / "02_slow.ipynb",
              f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)")
    started = _cpstats(*common, "--force", wait=False, env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and started.poll() is None and not (
            marker.exists() if running else list(target.parent.glob(".2016-17.*.tmp"))):
        time.sleep(0.1)
    assert started.poll() is None, "the run ended before it was signalled"
    assert marker.exists() if running else list(target.parent.glob(".2016-17.*.tmp")), (
        "the run never started")
    return started


def test_a_killed_run_leaves_nothing_once_the_next_run_has_been(notebooks, tmp_path,
                                                                monkeypatch):
    """Measured before: after SIGKILL, cpstats-run-*/child_level.pickle (every child-level
    record) and cpstats-published-* in the system's temporary folder and a partial
    .<year>.*.tmp/ folder stayed, and no later run removed them."""
    import secrets

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    scratch = tmp_path / "system-tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    out = tmp_path / "reports"
    target = out / "buckinghamshire" / "2016-17"
    common = [*_common(notebooks, out), "--la", "825", "--cin-census",
              str(_council_return(tmp_path))]
    assert _cpstats(*common, env=env).returncode == 0
    (target / "earlier.txt").write_text("the earlier report")
    running = _slow_run_started(notebooks, common, env, target, running=True)
    os.killpg(running.pid, signal.SIGKILL)
    running.wait()
    (notebooks / "02_slow.ipynb").unlink()
    # The killed run's temporary folder is still there (with its kernels' connection files:
    # its workers never removed them) ...
    assert list(target.parent.glob(".2016-17.*.tmp"))
    # ... until the next run, which finds the earlier report intact (no --force: not replaced).
    result = _cpstats(*common, env=env)
    assert result.returncode == 2 and "--force" in result.stderr
    assert (target / "earlier.txt").read_text() == "the earlier report"
    assert _cpstats(*common, "--force", env=env).returncode == 0
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if not p.is_relative_to(target))
    assert left == ["buckinghamshire"]
    # Nothing in the system's temporary folder: no run cache, no kernel connection file
    # (tmp*.json), no multiprocessing folder (pymp-*); and no child-level file anywhere.
    assert sorted(p.name for p in scratch.iterdir()) == []
    assert not list(tmp_path.rglob("*child_level*")) and not list(out.rglob("tmp*.json"))


@pytest.mark.parametrize("running", [False, True], ids=["set-up", "notebook-running"])
def test_an_interrupted_run_leaves_the_earlier_report_and_no_trace(running, notebooks, tmp_path,
                                                                   monkeypatch):
    """Ctrl-C (SIGINT to the run's process group) as the run sets up its folders (before any
    kernel starts) or while a notebook runs: exit 130 saying so, the earlier report intact, and
    nothing of the interrupted run left: no temporary report folder or lock, no run cache
    (cpstats-run-*, cpstats-published-*, cpstats-report-*), kernel connection file or pymp-*
    folder in the system's temporary folder, no child-level file anywhere."""
    import secrets

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    returned = _council_return(tmp_path)
    scratch = tmp_path / "system-tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch)}
    out = tmp_path / "reports"
    target = out / "buckinghamshire" / "2016-17"
    common = [*_common(notebooks, out), "--la", "825", "--cin-census", str(returned)]
    first = _cpstats(*common, env=env)
    assert first.returncode == 0, first.stderr
    (target / "earlier.txt").write_text("the earlier report")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    started = _slow_run_started(notebooks, common, env, target, running)
    os.killpg(started.pid, signal.SIGINT)
    _, stderr = started.communicate(timeout=120)
    assert started.returncode == 130 and "interrupted" in stderr, stderr
    assert (target / "earlier.txt").read_text() == "the earlier report"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before
    assert list(scratch.iterdir()) == []
    assert not [p for p in tmp_path.rglob("*child_level*")]


@pytest.mark.parametrize("make_out, message", [
    (lambda tmp: (tmp / "afile").write_text("x") and tmp / "afile", "existing file"),
    (lambda tmp: Path("/proc/cpstats-reports"), "cpstats can write to"),
    (lambda tmp: tmp / ("x" * 300), "at most 255 bytes"),
])
def test_an_output_folder_that_cannot_be_is_refused_before_anything_runs(
        make_out, message, notebooks, tmp_path):
    out = make_out(tmp_path)
    result = _cpstats(*_common(notebooks, out))
    assert result.returncode == 2, result.stderr
    assert "--out" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_first_run_leaves_no_empty_folder(notebooks, tmp_path):
    out = tmp_path / "reports"
    _notebook(notebooks / "02_fails.ipynb", "raise ValueError('broken on purpose')")
    result = _cpstats(*_common(notebooks, out))
    assert result.returncode == 1 and "broken on purpose" in result.stderr
    assert [p.name for p in out.iterdir()] == []


def test_no_local_path_of_an_input_reaches_an_output(notebooks, tmp_path, shared_data):
    out = tmp_path / "reports"
    service = tmp_path / "private-folder-name" / "service.csv"
    service.parent.mkdir()
    service.write_text("setting,value\nchair_fte,5\n")
    _notebook(notebooks / "02_history.ipynb",
              "print('history', get_ipython().history_manager.enabled)")
    result = _cpstats(*_common(notebooks, out), "--dfe-dir", str(shared_data / "dfe" / "cin_2022"),
                      "--la", "825", "--service", str(service))
    assert result.returncode == 0, result.stderr
    folder = out / "buckinghamshire" / "2016-17"
    for path in folder.rglob("*"):
        if path.suffix in (".ipynb", ".html", ".csv"):
            text = path.read_text(encoding="utf-8")
            assert str(tmp_path) not in text and "private-folder-name" not in text, path.name
            assert str(shared_data) not in text, path.name
    executed = (folder / "02_history.ipynb").read_text(encoding="utf-8")
    assert "history False" in executed  # kernels keep no IPython history
