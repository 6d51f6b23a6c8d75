"""Any LA, any year the data hold (issue 15): every theme runs for the smallest councils, for
councils reorganised within the 2022 release and for its first and last years, saying in a
sentence what it cannot show; a year an LA has no figures for is refused before any notebook
starts, with nothing left behind.

The themes run in-process (much faster than notebooks); one real batch runs the notebooks for
two of them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from cpstats import report, themes
from cpstats.errors import ParameterError
from cpstats.inputs import resolve
from cpstats.themes.base import ThemeData

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

CASES = [
    ("201", "2016-17"),  # City of London: the smallest child population, counts suppressed
    ("420", "2016-17"),  # Isles of Scilly: a handful of children
    ("857", "2016-17"),  # Rutland: too few referrals by month to judge a model
    ("837", "2016-17"),  # Bournemouth: merged into BCP (839) in 2019
    ("836", "2016-17"),  # Poole: the same
    ("835", "2016-17"),  # Dorset county: became the unitary Dorset (838) in 2019
    ("928", "2020-21"),  # Northamptonshire: its last year, split in 2021
    ("839", "2021-22"),  # BCP: the release's last year
    ("838", "2021-22"),
    ("825", "2012-13"),  # the release's first year: no year before it
]


@pytest.fixture(scope="module")
def computed(cin_2022, tmp_path_factory):
    """Every theme for every case (the release-level cache in a folder of its own)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CPSTATS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    results = {}
    for la, year in CASES:
        data = ThemeData(resolve(la, year, dfe_dir=cin_2022))
        results[la, year] = {name: themes.compute(name, data) for name in themes.NOTEBOOKS}
    mp.undo()
    return results


@pytest.mark.parametrize("case", CASES, ids=[f"{la}-{year}" for la, year in CASES])
def test_every_theme_runs_and_says_what_it_leaves_out(computed, case, cin_2022):
    for name, result in computed[case].items():
        for section in result.sections:
            if section.empty:  # a section with nothing to show says why (here or in its theme)
                assert section.left_out or result.left_out, f"{name}.{section.name} is silent"
            for paragraph in section.paragraphs:
                assert not re.search(r"\b(nan|inf|NaN|None)\b", paragraph), (name, paragraph)
        values = result.findings["value"].astype(float)
        assert not np.isinf(values).any(), name
    # the LA's own count at 31 March is stated as DfE published it: its value, or its marker
    # (City of London and Scilly: c, suppressed, never turned into x, not available)
    la, year = case
    trends = computed[case]["trends"].findings
    own = trends[(trends["measure"] == "cp_plans_at_31_march") & (trends["geography_code"] == la)
                 & (trends["period"] == year)].iloc[0]
    published = ThemeData(resolve(la, year, dfe_dir=cin_2022)).fact(
        "cp_plans_at_31_march", "dfe").iloc[0]
    if pd.isna(published["value"]):
        assert pd.isna(own["value"]) and own["marker"] == published["marker"], own.to_dict()
    else:
        assert own["value"] == published["value"] and pd.isna(own["marker"]), own.to_dict()


def test_the_smallest_councils_leave_out_what_their_counts_cannot_carry(computed):
    scilly = computed["420", "2016-17"]
    left = {name: " ".join(result.left_out) for name, result in scilly.items()}
    # DfE suppresses Scilly's figures: no rate among councils, no category, no trend to fit
    assert "not published for Isles of Scilly in 2016-17" in left["trends"]
    assert "a trend needs 4 years or more, not 0" in left["trends"]
    assert "category of abuse: no published or child-level counts" in left["demographics"]
    rutland = computed["857", "2016-17"]["forecasting"]
    assert any("referrals next quarter" in x for x in rutland.left_out)


def test_the_release_s_first_year_has_no_annual_forecast_and_says_so(computed):
    first = computed["825", "2012-13"]["forecasting"]
    assert any("annual forecast" in x for x in first.left_out)


@pytest.mark.parametrize("la, year, names", [
    ("837", "2020-21", "2012-13"),  # Bournemouth after its merger: refused, naming its years
    ("940", "2016-17", "2021-22"),  # North Northamptonshire before it existed
])
def test_a_year_the_la_has_no_figures_for_is_refused_before_anything_runs(
        cin_2022, tmp_path, la, year, names):
    with pytest.raises(ParameterError, match=names) as refused:
        report.plan([la], [year], dfe_dir=cin_2022, out=tmp_path / "reports")
    assert "--year" in str(refused.value)
    assert not (tmp_path / "reports").exists()  # planning makes no folder


def test_the_real_notebooks_run_for_the_smallest_councils(cin_2022, tmp_path, monkeypatch):
    monkeypatch.setenv("CPSTATS_CACHE_DIR", str(tmp_path / "cache"))
    runs = report.plan(["420", "857"], ["2017"], dfe_dir=cin_2022, out=tmp_path / "reports")
    outcomes = report.execute(runs, report.find_notebooks(), jobs=2, progress=False)
    assert all(o.ok for o in outcomes), report.summary(outcomes)
    for run in runs:
        assert (run.out_dir / "results.csv").is_file()
        assert (run.out_dir / report.STAMP_FILE).is_file()
    hidden = [p for p in (tmp_path / "reports").rglob(".*") if p.name != report.STAMP_FILE]
    assert not hidden
