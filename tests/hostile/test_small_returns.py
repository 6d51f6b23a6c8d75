"""Small and sparse CIN Census returns against every theme (issue: hardening).

A valid return of a few hundred children, a single year, or months with nothing in them must
give a page that says what it cannot show, never an exception. Hypothesis draws the returns
from the synthetic county at small scales (0 to 500 children, months emptied, one to five
years) and runs each theme's computation in-process, as the notebooks do.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from cpstats import disclosure, inputs, synth, themes
from cpstats.childlevel import TABLES, CinData
from cpstats.themes import forecasting
from cpstats.themes.base import CHILD_SOURCES, ThemeData

#: The column each table's events are dated by (a month emptied loses them).
EVENT_DATE = {"referrals": "referral_date", "s47s": "s47_start_date", "cp_plans": "start_date",
              "reviews": "review_date", "assessments": "start_date", "cin_plans": "start_date"}
YEARS = {"one year": (2017, 2017), "two years": (2016, 2017), "five years": (2013, 2017)}
#: Scales giving about 500 children over each span (the draw takes up to 500 of them).
SCALE = {(2017, 2017): 0.05, (2016, 2017): 0.03, (2013, 2017): 0.016}
MONTHS = pd.period_range("2016-04", "2017-03", freq="M")


@functools.cache
def _county(years: tuple[int, int], seed: int) -> CinData:
    return synth.generate(seed=seed, years=years, scale=SCALE[years]).data


@functools.cache
def _template() -> ThemeData:
    """One run's published data (loaded once; every drawn return reuses it)."""
    data = ThemeData(inputs.resolve(la="825", year="2016-17"))
    for name in ("facts", "every_year", "population", "service", "la_name", "region",
                 "neighbours", "census_children"):
        getattr(data, name)
    return data


def small_return(years: tuple[int, int], seed: int, children: int,
                 empty: list[pd.Period]) -> CinData:
    """Up to ``children`` children of a small synthetic county, read as a council's return,
    with every event dated in the ``empty`` months removed."""
    county = _county(years, seed)
    ids = county.children["child_id"].to_numpy()
    rng = np.random.default_rng(seed)
    keep = set(rng.choice(ids, size=min(children, len(ids)), replace=False).tolist())
    tables = {}
    for name in TABLES:
        table = county.table(name)
        kept = table["child_id"].isin(keep)
        if name in EVENT_DATE and empty:
            kept &= ~table[EVENT_DATE[name]].dt.to_period("M").isin(empty)
        tables[name] = table[kept].reset_index(drop=True)
    return CinData(county.la_code, county.reference_date, "cin_census", **tables)


def theme_data(cin: CinData) -> ThemeData:
    """A run's data with ``cin`` as its child-level records (published data shared)."""
    template = _template()
    data = ThemeData(template.inputs)
    data.__dict__.update({k: v for k, v in template.__dict__.items()
                          if k not in ("child_level", "child_facts", "_names")})
    data.__dict__["child_level"] = cin
    return data


#: Each example runs a whole theme (seconds): a fixed sequence of draws, no shrinking (a failure
#: is reported as drawn; shrinking one took over five minutes).
QUICK = {"deadline": None, "derandomize": True, "phases": [Phase.explicit, Phase.generate],
         "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}

#: (years, seed, children, empty months) of a small return (:func:`small_return`).
returns = st.tuples(
    st.sampled_from(list(YEARS.values())),
    st.integers(0, 2),
    st.integers(0, 500),
    st.lists(st.sampled_from(list(MONTHS)), max_size=12, unique=True),
)

def _assert_degrades(result: themes.ThemeResult) -> None:
    """Every section came back, an empty one with the page saying what is left out; nothing
    published shows a child-level count of 1 to 5."""
    assert not any(s.empty for s in result.sections) or result.left_out
    findings = result.findings
    child = findings[findings["source"].isin(CHILD_SOURCES) & (findings["unit"] == "count")]
    assert not disclosure.primary_mask(child["value"].to_numpy()).any(), child
    # Nor does a note (the sibling stand-in's count of groups of children).
    notes = findings.loc[findings["source"].isin(CHILD_SOURCES), "note"].fillna("")
    assert not notes.str.contains(r"\b[1-5] groups? of children").any(), notes
    for table in (t for s in result.sections for t in s.tables if t.child_level):
        cells = table.frame.astype(str).stack()
        assert not cells.str.fullmatch(r"[1-5]").any(), table.name


@pytest.mark.parametrize("theme", ["trends", "demographics", "ethnicity", "pipeline"])
@settings(max_examples=12, **QUICK)
@given(drawn=returns)
@example(drawn=((2013, 2017), 0, 300, []))
@example(drawn=((2017, 2017), 0, 0, []))
def test_every_theme_degrades_on_a_small_sparse_return(theme, drawn):
    _assert_degrades(themes.compute(theme, theme_data(small_return(*drawn))))


@functools.cache
def _shared_forecasts() -> dict[object, object]:
    """The forecasting theme's release-level and DfE-based fits (they do not depend on the
    child-level records: fitted once here, not once per drawn return)."""
    data = theme_data(small_return((2013, 2017), 0, 500, []))
    themes.compute("forecasting", data)
    return {k: v for k, v in forecasting._RUNS[data].items() if k != "quarter"}


@settings(max_examples=4, **QUICK)
@given(drawn=returns)
@example(drawn=((2017, 2017), 0, 0, []))
def test_forecasting_degrades_on_a_small_sparse_return(drawn):
    data = theme_data(small_return(*drawn))
    forecasting._RUNS[data] = dict(_shared_forecasts())
    result = themes.compute("forecasting", data)
    _assert_degrades(result)
    gap, section = forecasting.quarter_gap(data), result.sections[0]
    assert section.left_out == [gap] if gap else section.paragraphs


def test_a_return_of_one_year_leaves_next_quarter_out_with_its_reason():
    cin = small_return((2013, 2017), 0, 500, [])
    for name, column in EVENT_DATE.items():  # nothing before the run's year, as in one return
        table = cin.table(name)
        setattr(cin, name, table[table[column] >= "2016-04-01"].reset_index(drop=True))
    section = forecasting.next_quarter(theme_data(cin))
    assert not section.paragraphs and not section.charts
    assert section.left_out == [forecasting.quarter_gap(theme_data(cin))]
    assert "cover 0 full quarters" in section.left_out[0]


def test_five_years_of_a_small_return_give_a_forecast():
    section = forecasting.next_quarter(theme_data(small_return((2013, 2017), 0, 500, [])))
    assert section.paragraphs and not any("full quarters" in x for x in section.left_out)


def test_reviews_by_month_with_every_month_suppressed_is_left_out_with_a_sentence():
    from cpstats.themes import trends

    section = trends.reviews(theme_data(small_return((2013, 2017), 0, 300, [])))
    table = section.tables[-1]
    assert table.name == "reviews_by_month" and table.child_level
    assert (table.frame.iloc[:-1, 1:].isin(["c", 0])).all().all()  # every month c or none
    assert not section.charts
    assert any("reviews in timescale by month" in x for x in section.left_out)
