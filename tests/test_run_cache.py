"""The run cache shares what one report's notebooks each need (the synthetic county, its
measures): notebooks running side by side compute it once, not once each."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from cpstats import inputs


def _compute_once_counted(folder: str) -> int:
    def compute() -> int:
        with (Path(folder) / "computed.txt").open("a") as counter:
            counter.write("computed\n")
        time.sleep(0.5)  # long enough for the other process to ask meanwhile
        return 42

    return inputs.run_cached("answer", compute)


def test_notebooks_side_by_side_compute_a_shared_value_once(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(inputs.RUN_CACHE_ENV, str(cache))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        values = pool.map(_compute_once_counted, [str(tmp_path)] * 2)
    assert values == [42, 42]
    assert (tmp_path / "computed.txt").read_text().splitlines() == ["computed"]
    assert (cache / "answer.pickle").is_file()


def test_outside_a_run_the_value_is_computed_each_time(tmp_path, monkeypatch):
    monkeypatch.delenv(inputs.RUN_CACHE_ENV, raising=False)
    assert [_compute_once_counted(str(tmp_path)) for _ in range(2)] == [42, 42]
    assert len((tmp_path / "computed.txt").read_text().splitlines()) == 2
