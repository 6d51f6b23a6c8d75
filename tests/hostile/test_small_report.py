"""A valid 300-child CIN Census return gives a report (issue: hardening). Measured before: it
failed in 01_trends cell 11 (``ValueError: Encountered all NA values``: every month of reviews
suppressed, then ``idxmin()``), so no small LA could get a report from its own return. The page
that failed runs here from the real notebook, through ``cpstats report --cin-census``.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats.paths import PROJECT_ROOT
from tests.hostile.test_runner import _cpstats


def _return_of_300(folder: Path) -> Path:
    """300 children of the synthetic county (every year of their records) as one XML return."""
    from cpstats import synth
    from cpstats.childlevel import TABLES, CinData
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate()
    ids = county.data.children["child_id"].to_numpy()
    keep = set(np.random.default_rng(10).choice(ids, size=300, replace=False).tolist())
    tables = {name: county.data.table(name)[county.data.table(name)["child_id"].isin(keep)]
              .reset_index(drop=True) for name in TABLES}
    small = CinData(county.data.la_code, county.data.reference_date, "cin_census", **tables)
    return write_return(small, folder / "cin_census_2017.xml", la_child_ids=county.la_child_ids,
                        whole_history=True)


def test_a_300_child_return_gives_a_report(tmp_path, monkeypatch):
    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(PROJECT_ROOT / "notebooks" / "01_trends.ipynb", notebooks)
    returned = _return_of_300(tmp_path / "returns")
    out = tmp_path / "reports"
    result = _cpstats("--la", "825", "--cin-census", str(returned), "--notebooks-dir",
                      str(notebooks), "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    folder = out / "buckinghamshire" / "2016-17"
    results = pd.read_csv(folder / "results.csv", dtype=str)
    assert len(results) and (folder / "01_trends.ipynb").is_file()
    child = results[(results["source"] == "cin_census") & (results["unit"] == "count")]
    assert not pd.to_numeric(child["value"]).between(1, 5).any()
    shown = [pd.read_csv(t, dtype=str) for t in sorted((folder / "tables").glob("*month*.csv"))]
    assert shown, "the monthly tables of child-level counts are published"
    cells = pd.concat([t.iloc[:, 1:] for t in shown]).stack()
    assert not cells.str.fullmatch(r"[1-5]").any() and (cells == "c").any()
