"""The headline table: the trends theme's figures, report beside DfE beside derived."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpstats import cli
from cpstats.errors import ParameterError
from cpstats.headline import KEY, format_headline, headline_table
from cpstats.inputs import resolve
from cpstats.themes import ThemeData


@pytest.fixture(scope="module")
def default() -> pd.DataFrame:
    """The default run: the seed report and the reference extract shipped in data/."""
    return headline_table(ThemeData(resolve()))


@pytest.fixture(scope="module")
def release(cin_2022: Path) -> pd.DataFrame:
    """Buckinghamshire 2016-17 from the DfE 2022 release folder in ../shared."""
    return headline_table(ThemeData(resolve("825", "2016-17", dfe_dir=cin_2022)))


def _figures(table: pd.DataFrame, area: str = "Buckinghamshire",
             period: str = "2016-17") -> pd.DataFrame:
    rows = table[(table["area"] == area) & (table["period"] == period)]
    return rows.set_index("measure")


def test_shape(default):
    assert list(default.columns[: len(KEY)]) == KEY and default.columns[-1] == "note"
    assert {"report", "dfe", "derived"} <= set(default.columns)
    assert not default.duplicated(KEY).any()


@pytest.mark.parametrize("which", ["default", "release"])
def test_dfe_published_figures_for_buckinghamshire_2016_17(which, request):
    dfe = _figures(request.getfixturevalue(which))["dfe"]
    assert dfe["cp_plans_at_31_march"] == 553
    assert dfe["cp_rate_per_10k"] == 45.2
    assert dfe["icpcs"] == 866
    assert dfe["cp_reviews_in_timescale_pct"] == 84.6
    assert dfe["cp_second_or_subsequent_pct"] == 14.3
    assert (dfe["cp_plans_started"], dfe["cp_plans_ended"]) == (725, 626)


def test_report_figures_sit_beside_dfe_never_merged(default):
    figures = _figures(default)
    assert figures.loc["cp_plans_at_31_march", "report"] == 564
    assert figures.loc["cp_rate_per_10k", "report"] == 46.7
    # the two review measures stay on separate rows
    assert figures.loc["review_conferences_in_timescale_pct", "report"] == 96
    assert pd.isna(figures.loc["review_conferences_in_timescale_pct", "dfe"])
    assert pd.isna(figures.loc["cp_reviews_in_timescale_pct", "report"])


def test_derived_rate_and_change(default):
    figures = _figures(default)
    assert figures.loc["cp_rate_per_10k", "derived"] == 45.7  # 553 / 121,026 (time_period 2017)
    assert "121,026" in figures.loc["cp_rate_per_10k", "note"]
    assert "time_period 2017 row" in figures.loc["cp_rate_per_10k", "note"]
    assert figures.loc["cp_change_pct", "derived"] == round(100 * (553 / 454 - 1), 1)
    assert figures.loc["cp_change_pct", "report"] == 25


def test_printable_form(default):
    text = format_headline(default)
    assert text.startswith("Child protection headline figures: Buckinghamshire (825), 2016-17")
    row = next(line for line in text.splitlines()
               if line.startswith("Children on a plan per 10,000 children: Buckinghamshire"))
    assert row.split()[-5:-2] == ["46.7", "45.2", "45.7"]
    assert "time_period 2017 row" in text
    share = next(line for line in text.splitlines()
                 if line.startswith("Plans lasting two years or more (%): Buckinghamshire"))
    assert share.split()[-5:-3] == ["1%", "c"]  # the report's as printed; DfE's suppressed


def test_unknown_la_or_year():
    with pytest.raises(ParameterError, match="--la"):
        headline_table(ThemeData(resolve("North Northamptonshire", 2017)))  # from 2021
    with pytest.raises(ParameterError, match="--year"):
        headline_table(ThemeData(resolve("825", 2030)))


def test_cli_prints_the_default_table_and_rejects_bad_parameters(capsys):
    assert cli.main(["headline"]) == 0
    assert "Buckinghamshire (825)" in capsys.readouterr().out
    assert cli.main(["headline", "--la", "nowhere"]) == 2
    assert "--la" in capsys.readouterr().err
    assert cli.main(["headline", "--year", "17"]) == 2
