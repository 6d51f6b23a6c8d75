"""Headline figures: recorded once, stated in prose from the same value, written per contract."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cpstats.results import RESULT_COLUMNS, Results, format_value, merge, read_results


def test_format_value_by_unit():
    assert format_value(564, "count") == "564"
    assert format_value(9147, "count") == "9,147"
    assert format_value(564 / 120643 * 10_000, "rate") == "46.7"
    assert format_value(114 / 450 * 100, "percent", decimals=0, signed=True) == "+25%"
    assert format_value(-2.2, "percent") == "-2.2%"
    assert format_value(-0.01, "percent") == "0.0%"
    assert format_value(math.nan, "count", marker="c") == "suppressed (1 to 5)"


def _record(results: Results, value: float, **kw) -> str:
    return results.record("cp_rate_per_10k", value, unit="rate", geography_code="825",
                          geography_name="Buckinghamshire", period="2016-17", source="derived", **kw)


def test_record_returns_the_prose_text_and_stores_the_value_stated():
    results = Results("01_trends")
    text = _record(results, 564 / 120643 * 10_000, note="population: ONS mid-2015, 120,643")
    frame = results.frame()
    assert text == "46.7"
    assert list(frame.columns) == list(RESULT_COLUMNS)
    assert frame["value"].tolist() == [46.7]
    assert frame["theme"].tolist() == ["01_trends"]
    assert pd.isna(frame["lower_80"].iloc[0])


def test_the_same_figure_twice_with_different_values_is_an_error():
    results = Results("01_trends")
    _record(results, 46.7)
    _record(results, 46.7)  # stating a figure twice is fine
    with pytest.raises(ValueError, match="recorded twice"):
        _record(results, 45.2)


def test_save_writes_nothing_without_an_output_folder(tmp_path):
    results = Results("01_trends")
    _record(results, 46.7)
    assert results.save(None) is None
    path = results.save(tmp_path)
    assert path == tmp_path / "results" / "01_trends.csv"
    back = read_results(path)
    assert back["geography_code"].tolist() == ["825"]  # a code, not 825.0
    assert back["value"].tolist() == [46.7]


def test_merge_keeps_themes_apart_and_intervals():
    a, b = Results("01_trends"), Results("05_forecasting")
    _record(a, 46.7)
    b.record("cp_forecast_next_quarter", 590.4, unit="count", geography_code="825",
             geography_name="Buckinghamshire", period="2017-18 Q1", source="synthetic",
             interval_80=(560, 620), interval_95=(545, 640))
    merged = merge([a.frame(), b.frame()])
    assert len(merged) == 2
    forecast = merged[merged["measure"] == "cp_forecast_next_quarter"].iloc[0]
    assert forecast["value"] == 590 and forecast["upper_95"] == 640


def test_measure_labels_come_from_the_registry():
    from cpstats.results import measure_label

    assert measure_label("cp_rate_per_10k") == "Children on a plan per 10,000 children"
    assert measure_label("s47_enquiries") == "Section 47 enquiries"
    assert measure_label("not_a_measure") == "not_a_measure"


def test_record_refuses_an_unregistered_measure_and_a_wrong_unit():
    from cpstats.registry import UnregisteredMeasure

    results = Results("01_trends")
    where = dict(geography_code="825", geography_name="Buckinghamshire", period="2016-17",
                 source="dfe")
    with pytest.raises(UnregisteredMeasure, match="not_registered"):
        results.record("not_registered", 1.0, **where)
    with pytest.raises(ValueError, match="the registry says 'rate'"):
        results.record("cp_rate_per_10k", 45.2, unit="percent", **where)


def test_record_stores_the_registry_precision():
    results = Results("01_trends")
    text = results.record("cp_rate_per_10k", 45.2345, geography_code="825",
                          geography_name="Buckinghamshire", period="2016-17", source="dfe")
    assert text == "45.2" and results.frame()["value"].iloc[0] == 45.2


def test_a_child_level_count_of_one_to_five_is_never_stated():
    results = Results("01_trends")
    where = dict(geography_code="825", geography_name="Buckinghamshire", period="2016-17")
    said = results.record("icpcs", 4, source="cin_census", interval_95=(1, 10), **where)
    results.record("icpcs", 4, source="dfe", breakdown="month=2016-04", **where)
    results.record("referrals", 6, source="synthetic", **where)
    frame = results.frame().set_index(["measure", "source"])
    assert said == "suppressed (1 to 5)"
    assert pd.isna(frame.loc[("icpcs", "cin_census"), "value"])
    assert frame.loc[("icpcs", "cin_census"), "marker"] == "c"
    assert pd.isna(frame.loc[("icpcs", "cin_census"), "upper_95"])
    assert frame.loc[("icpcs", "dfe"), "value"] == 4  # published by DfE: shown as published
    assert frame.loc[("referrals", "synthetic"), "value"] == 6
