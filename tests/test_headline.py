"""The headline table: report figures beside DfE's published ones and derived ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpstats import cli
from cpstats.errors import ParameterError
from cpstats.headline import COLUMNS, ROWS, format_headline, headline_table
from cpstats.io import dfe
from cpstats.io.local import read_report_figures
from cpstats.io.population import ONS_FILE_NAME, read_ons_population

TABLES = ("d1_child_protection_plans_2013_to_2022.csv", "d3_cpps_subsequent_plan_2013_to_2022.csv",
          "d6_cpps_reviewed_within_timescales_2013_to_2022.csv",
          "c1_children_in_need_referrals_and_rereferrals_2013_to_2022.csv",
          "c4_children_in_need_section_47s_and_icpcs_2013_to_2022.csv")


@pytest.fixture(scope="module")
def published(cin_2022: Path, shared_data: Path) -> pd.DataFrame:
    """Report figures, the DfE tables the headline uses and the ONS file, read from ../shared."""
    frames = [read_report_figures(), read_ons_population(shared_data / "ons" / ONS_FILE_NAME)]
    frames += [dfe.read_table(cin_2022 / name) for name in TABLES]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def table(published: pd.DataFrame) -> pd.DataFrame:
    return headline_table("825", "2016-17", facts=published).set_index("measure")


def test_shape(table):
    assert list(table.reset_index().columns) == list(COLUMNS)
    assert list(table.index) == [m for m, _, _ in ROWS]


def test_dfe_published_figures_for_buckinghamshire_2016_17(table):
    dfe_col = table["dfe"]
    assert dfe_col["cp_plans_at_31_march"] == 553
    assert dfe_col["cp_rate_per_10k"] == 45.2
    assert dfe_col["referrals"] == 9204
    assert dfe_col["s47_enquiries"] == 2576
    assert dfe_col["icpcs"] == 866
    assert dfe_col["cp_reviews_in_timescale_pct"] == 84.6
    assert dfe_col["cp_second_or_subsequent_pct"] == 14.3


def test_report_figures_sit_beside_dfe_never_merged(table):
    assert table.loc["cp_plans_at_31_march", "report"] == 564
    assert table.loc["cp_rate_per_10k", "report"] == 46.7
    assert table.loc["referrals", "report"] == 9147
    # the two review measures stay on separate rows
    assert table.loc["review_conferences_in_timescale_pct", ["report", "dfe"]].tolist()[0] == 96
    assert np.isnan(table.loc["review_conferences_in_timescale_pct", "dfe"])
    assert np.isnan(table.loc["cp_reviews_in_timescale_pct", "report"])


def test_derived_rate_and_changes(table):
    assert table.loc["cp_rate_per_10k", "derived"] == 45.7  # 553 / 121,026 (time_period 2017)
    assert "121,026" in table.loc["cp_rate_per_10k", "note"]
    assert "120,643" in table.loc["cp_rate_per_10k", "note"]  # how the report made its 46.7
    assert table.loc["cp_change_pct", "derived"] == round(100 * (553 / 454 - 1), 1)
    assert table.loc["referrals_change_pct", "derived"] == round(100 * (9204 / 6958 - 1), 1)
    assert table.loc["icpcs_change_pct", "derived"] == round(100 * (866 / 749 - 1), 1)


def test_printable_form(table, published):
    text = format_headline(headline_table("825", 2017, facts=published))
    assert text.startswith("Child protection headline figures: Buckinghamshire (825), "
                           "year ending 31 March 2017")
    row = next(line for line in text.splitlines() if line.startswith("  per 10,000"))
    assert row.split()[-3:] == ["46.7", "45.2", "45.7"]
    assert "time_period 2017 row" in text


def test_unknown_la_or_year(published):
    with pytest.raises(ParameterError, match="--la"):
        headline_table("Milton Keynes", 2017, facts=read_report_figures())
    with pytest.raises(ParameterError, match="--year"):
        headline_table("825", 2030, facts=published)


def test_default_facts_give_the_same_dfe_figures(table):
    default = headline_table().set_index("measure")
    pd.testing.assert_series_equal(default["dfe"], table["dfe"])
    pd.testing.assert_series_equal(default["report"], table["report"])


def test_cli_prints_the_default_table_and_rejects_bad_parameters(capsys):
    assert cli.main(["headline"]) == 0
    assert "Buckinghamshire (825)" in capsys.readouterr().out
    assert cli.main(["headline", "--la", "nowhere"]) == 2
    assert "--la" in capsys.readouterr().err
    assert cli.main(["headline", "--year", "17"]) == 2
