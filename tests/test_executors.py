"""Batches on either executor: the same reports from the local process pool and from Dask,
a lost Dask worker never leaves a half-written report, ``--resume`` keeps finished reports,
and a batch writes the national results once per LA-year (issue 15).

Tiny notebooks (one kernel start each) keep these to seconds per report; the real notebooks run
in ``tests/test_any_la.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cpstats import executors, geography, national, report

PARAMETERS = ("la = None\nyear = None\ndfe_dir = None\ncin_census = None\n"
              "population_dir = None\nservice = None\noutput_dir = None")
# A figure that depends on the LA and year, so reports differ and each can be checked.
RECORD = """
import os
import time
from pathlib import Path
from cpstats.inputs import PUBLISHED_CACHE_ENV, published_cache_path
from cpstats.results import Results
# The release was read once, by the client: every notebook finds it in the batch's folder.
assert published_cache_path(os.environ[PUBLISHED_CACHE_ENV], Path(dfe_dir), None).is_file()
time.sleep({sleep})
results = Results("{theme}")
text = results.record("cp_plans_at_31_march", int(la) + int(year[:4]), unit="count",
                      geography_code=la, geography_name="Somewhere", period=year, source="dfe")
if output_dir is not None:
    results.save(output_dir)
print(text)
"""
LAS = ["825", "936"]


def _notebook(path: Path, theme: str, sleep: float = 0) -> None:
    nb = new_notebook(cells=[new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                             new_code_cell(RECORD.format(theme=theme, sleep=sleep))])
    nb.metadata["kernelspec"] = {"name": "cpstats", "display_name": "Python (cpstats)",
                                 "language": "python"}
    nbformat.write(nb, path)


def _notebooks(folder: Path, sleep: float = 0) -> list[Path]:
    folder.mkdir()
    for theme in ("01_first", "02_second"):
        _notebook(folder / f"{theme}.ipynb", theme, sleep)
    return report.find_notebooks(folder)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CPSTATS_CACHE_DIR", str(tmp_path / "cache"))


def _batch(cin_2022: Path, out: Path, notebooks: list[Path], executor: str, **options):
    runs = report.plan(LAS, ["2017"], dfe_dir=cin_2022, out=out, **options)
    return runs, report.execute(runs, notebooks, jobs=2, progress=False, executor=executor)


def _files(folder: Path) -> dict[str, bytes]:
    """What a reader gets from a report folder, less what records when or where it ran."""
    skip = {".html", ".ipynb", ".xlsx"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix not in skip}


def _no_leftovers(out: Path) -> None:
    hidden = [p for p in out.rglob(".*") if p.name != report.STAMP_FILE]
    assert not hidden, f"temporary files left behind: {hidden}"


@pytest.mark.slow
def test_dask_on_a_two_worker_local_cluster_writes_what_the_local_executor_writes(
        tmp_path, cin_2022, cache):
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install -e .[dask]")
    notebooks = _notebooks(tmp_path / "notebooks")
    runs, local = _batch(cin_2022, tmp_path / "local", notebooks, "local")
    _, dask = _batch(cin_2022, tmp_path / "dask", notebooks, "dask")
    assert all(o.ok for o in local + dask), [o.error for o in local + dask]
    for run in runs:
        mine = _files(run.out_dir)
        theirs = _files(tmp_path / "dask" / run.out_dir.relative_to(tmp_path / "local"))
        assert mine == theirs and "results.csv" in mine and "index.html" not in mine
        results = pd.read_csv(run.out_dir / "results.csv", dtype={"geography_code": str})
        assert results["value"].tolist() == [int(run.la_code) + 2016] * 2
        for notebook in notebooks:
            for name in (notebook.name, f"{notebook.stem}.html", f"{notebook.stem}_with_code.html"):
                assert (run.out_dir / name).is_file(), name
    _no_leftovers(tmp_path / "local")
    _no_leftovers(tmp_path / "dask")


def _kill_a_busy_worker(cluster_scheduler: list, killed: list) -> None:
    """Once a report task runs, SIGKILL the worker process running it."""
    from distributed import Client

    deadline = time.monotonic() + 120
    while not cluster_scheduler and time.monotonic() < deadline:
        time.sleep(0.2)
    with Client(cluster_scheduler[0], timeout=30) as client:
        while time.monotonic() < deadline:
            busy = [w for w, tasks in client.processing().items()
                    if any(str(t).startswith("cpstats-report-") for t in tasks)]
            if busy:
                time.sleep(2)  # inside a notebook: kernels started, files half-written
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.2)


@pytest.mark.slow
def test_a_worker_killed_mid_report_is_retried_and_leaves_no_half_written_report(
        tmp_path, cin_2022, cache, monkeypatch):
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install -e .[dask]")
    from distributed import LocalCluster

    notebooks = _notebooks(tmp_path / "notebooks", sleep=4)
    address: list[str] = []
    killed: list[int] = []
    started = LocalCluster.__init__

    def remember(self, *args, **kwargs):  # the executor's own cluster, seen from the test
        started(self, *args, **kwargs)
        address.append(self.scheduler_address)

    monkeypatch.setattr(LocalCluster, "__init__", remember)
    killer = threading.Thread(target=_kill_a_busy_worker, args=(address, killed), daemon=True)
    killer.start()
    runs, outcomes = _batch(cin_2022, tmp_path / "reports", notebooks, "dask")
    killer.join(timeout=5)
    assert killed, "no worker was killed: the test did not test anything"
    for run, outcome in zip(runs, outcomes, strict=True):
        if outcome.ok:  # retried on a live worker: the whole report
            results = pd.read_csv(run.out_dir / "results.csv")
            assert len(results) == len(notebooks)
            assert (run.out_dir / report.STAMP_FILE).is_file()
        else:  # reported, and nothing of it written
            assert "worker" in outcome.error
            assert not run.out_dir.exists()
    assert sum(o.ok for o in outcomes) >= 1
    _no_leftovers(tmp_path / "reports")


@pytest.mark.slow
def test_resume_keeps_finished_reports_and_the_national_file_holds_each_la_year_once(
        tmp_path, cin_2022, cache):
    notebooks = _notebooks(tmp_path / "notebooks")
    out = tmp_path / "reports"
    runs, outcomes = _batch(cin_2022, out, notebooks, "local")
    assert all(o.ok for o in outcomes)
    written = {run: (run.out_dir / "results.csv").stat().st_mtime_ns for run in runs}

    # Without --resume (or --force) a finished report is refused, as ever.
    with pytest.raises(report.ParameterError, match="--force"):
        report.plan(LAS, ["2017"], dfe_dir=cin_2022, out=out)
    again = report.plan(LAS, ["2017"], dfe_dir=cin_2022, out=out, resume=True)
    assert all(run.done for run in again)
    assert all(o.ok for o in report.execute(again, notebooks, progress=False))
    assert {run: (run.out_dir / "results.csv").stat().st_mtime_ns for run in runs} == written
    assert "complete for the same inputs" in report.summary(report.execute(again, notebooks))

    folder = national.write(out, cin_2022)
    results = pd.read_parquet(folder / "results.parquet")
    reports = results.groupby(["report_la_code", "report_year"]).size()
    assert reports.to_dict() == {(la, "2016-17"): len(notebooks) for la in LAS}
    assert len(pd.read_csv(folder / "results.csv", dtype=str)) == len(results)
    asked = pd.DataFrame({"report_la_code": LAS, "report_year": "2016-17"})
    assert national.check_each_once(folder, asked) == []
    page = (folder / "index.html").read_text(encoding="utf-8")
    for la in LAS:
        assert f"../{geography.la_slug(la)}/2016-17/index.html" in page
    funnels = sorted(p.name for p in (folder / "figures").glob("funnel_*_2016-17.png"))
    assert "funnel_cp_rate_per_10k_2016-17.png" in funnels
    assert all(f"figures/{name}" in page for name in funnels)

    # A report whose stamp no longer matches its inputs is not kept: --force is needed.
    (runs[0].out_dir / report.STAMP_FILE).write_text('{"inputs": "other"}')
    with pytest.raises(report.ParameterError, match="--force"):
        report.plan(LAS, ["2017"], dfe_dir=cin_2022, out=out, resume=True)
    _no_leftovers(out)


def test_an_unknown_executor_or_a_scheduler_without_dask_is_refused():
    with pytest.raises(report.ParameterError, match="--executor"):
        executors.check("spark", None)
    with pytest.raises(report.ParameterError, match="--scheduler"):
        executors.check("local", "tcp://127.0.0.1:8786")


def _national(folder: Path, reports: list[tuple[str, str]]) -> Path:
    """A national results file of ``reports`` (LA, year), two themes each stating the LA's count."""
    rows = [{"report_la_code": la, "report_year": year, "theme": theme,
             "measure": "cp_plans_at_31_march", "source": "dfe", "breakdown": "total",
             "geography_code": geo, "period": year, "value": 100.0}
            for la, year in reports for theme in ("01_trends", "02_demographics")
            for geo in (la, "E92000001")]
    folder.mkdir()
    pd.DataFrame(rows).to_parquet(folder / "results.parquet", index=False)
    return folder


def test_the_national_check_names_a_report_held_twice_missing_or_unasked(tmp_path):
    asked = pd.DataFrame({"report_la_code": ["825", "936"], "report_year": "2016-17"})
    whole = _national(tmp_path / "whole", [("825", "2016-17"), ("936", "2016-17")])
    assert national.check_each_once(whole, asked) == []
    twice = _national(tmp_path / "twice", [("825", "2016-17"), ("825", "2016-17"),
                                           ("936", "2016-17")])
    assert national.check_each_once(twice) == ["825 2016-17: in the national file 2 times"]
    short = _national(tmp_path / "short", [("825", "2016-17"), ("909", "2016-17")])
    assert national.check_each_once(short, asked) == [
        "936 2016-17: no report in the national file",
        "909 2016-17: in the national file but not asked for"]
    assert national.check_each_once(short, asked, unasked=False) == [
        "936 2016-17: no report in the national file"]


@pytest.mark.slow
def test_a_batch_from_the_command_line_checks_its_national_file(tmp_path, cin_2022, cache,
                                                                capsys):
    from cpstats import cli

    notebooks = _notebooks(tmp_path / "notebooks")
    out = tmp_path / "reports"
    args = ["report", *(a for la in LAS for a in ("--la", la)), "--year", "2017", "--dfe-dir", str(cin_2022), "--out",
            str(out), "--notebooks-dir", str(notebooks[0].parent), "--no-progress", "--jobs", "2"]
    assert cli.main(args) == 0
    assert "national results file" not in capsys.readouterr().err
    # The same report under a second folder: the national file would hold it twice.
    folder = out / geography.la_slug(LAS[0]) / "2016-17"
    shutil.copytree(folder, out / "elsewhere" / "2016-17")
    assert cli.main([*args, "--resume"]) == 1
    assert f"national results file: {LAS[0]} 2016-17: in the national file 2 times" in \
        capsys.readouterr().err
