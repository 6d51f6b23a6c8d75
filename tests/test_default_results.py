"""The default report keeps every figure it stated before the themes moved into the library.

``tests/data/default_results.csv`` is the default run's ``results.csv`` as it was before the
move (Buckinghamshire 2016-17). Each theme, computed in-process, must state every one of its
figures again, at the precision the figure was published to. A figure may only change key for a
reason written in :data:`RENAMED` (later issues update the reference file on purpose).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpstats import themes
from cpstats.inputs import resolve
from cpstats.results import read_results

REFERENCE = Path(__file__).parent / "data" / "default_results.csv"
KEY = ["measure", "geography_code", "period", "breakdown", "source"]
#: (theme, measure, geography_code, period, breakdown, old source) -> new source, with why.
RENAMED: dict[tuple[str, ...], tuple[str, str]] = {}


@pytest.fixture(scope="module")
def data() -> themes.ThemeData:
    return themes.ThemeData(resolve())


@pytest.mark.parametrize("name", list(themes.NOTEBOOKS))
def test_theme_states_every_figure_it_stated_before(name: str, data: themes.ThemeData) -> None:
    theme = themes.NOTEBOOKS[name]
    before = read_results(REFERENCE)
    before = before[before["theme"] == theme]
    now = themes.compute(name, data).findings
    now = now.set_index(KEY)
    missing, moved = [], []
    for row in before.itertuples(index=False):
        source = RENAMED.get((theme, row.measure, row.geography_code, row.period, row.breakdown,
                              row.source), (row.source, ""))[0]
        key = (row.measure, row.geography_code, row.period, row.breakdown, source)
        if key not in now.index:
            missing.append(key)
            continue
        value = now.loc[key, "value"]
        if pd.isna(row.value):
            if not pd.isna(value):
                moved.append((key, row.value, value))
        elif pd.isna(value) or abs(float(value) - float(row.value)) > _tolerance(row.value):
            moved.append((key, row.value, value))
    assert missing == [] and moved == []


def _tolerance(value: float) -> float:
    """Half a unit in the last decimal the old file stored (it stored at published precision)."""
    text = f"{float(value):.10g}"
    places = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10 ** -places + 1e-9
