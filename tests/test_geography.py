"""LA codes, names, reorganisations and statistical neighbours."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpstats import geography as g
from cpstats.errors import ParameterError


@pytest.mark.parametrize("given", ["825", 825, "E10000002", "E06000060", "buckinghamshire",
                                   " BUCKINGHAMSHIRE "])
def test_buckinghamshire_every_form(given):
    assert g.la_code(given) == "825"


def test_buckinghamshire_gss_history():
    assert g.gss_codes("825") == ["E10000002", "E06000060"]
    assert g.gss_code("825", 2017) == "E10000002"
    assert g.gss_code("825", 2021) == "E06000060"
    assert g.la_name("E06000060") == "Buckinghamshire"
    assert g.la_slug("825") == "buckinghamshire"
    assert g.region_of("825") == ("E12000008", "South East")


def test_reorganisations():
    table = g.all_las().set_index("old_la_code")
    assert table.loc["928", "replaced_by"] == "940;941"
    assert table.loc["928", "last_year"] == 2021
    assert table.loc["940", "first_year"] == 2022
    assert table.loc["835", "replaced_by"] == "838"
    assert {table.loc["836", "replaced_by"], table.loc["837", "replaced_by"]} == {"839"}
    assert table.loc["838", "first_year"] == 2020
    assert table.loc["909", "replaced_by"] == "942;943"
    assert g.gss_codes("815") == ["E10000023", "E06000065"]
    assert g.gss_codes("933") == ["E10000027", "E06000066"]
    assert g.la_code("E06000064") == "943"
    # a name shared by an abolished and a current LA resolves to the current one
    assert g.la_code("Dorset") == "838"
    assert g.la_code("E10000009") == "835"
    assert g.la_slug("835") == "dorset_835" and g.la_slug("838") == "dorset"
    assert "928" in g.current_las(2021) and "928" not in g.current_las(2022)
    assert len(g.current_las(2017)) == 152


def test_names_ignore_punctuation_and_city_of():
    assert g.la_code("bristol") == g.la_code("Bristol, City of") == "801"
    assert g.la_code("Bournemouth, Christchurch & Poole") == "839"
    assert g.la_slug("839") == "bournemouth_christchurch_and_poole"
    assert g.region_of("Camden") == ("E12000007", "London")


def test_unknown_la_names_parameter_and_suggests():
    with pytest.raises(ParameterError, match=r"--la.*did you mean 'Buckinghamshire'"):
        g.la_code("Bukinghamshire")
    with pytest.raises(ParameterError, match="--la"):
        g.la_code("999")


def test_statistical_neighbours():
    sn = g.statistical_neighbours("buckinghamshire")
    assert sn[:3] == ["936", "869", "868"] and len(sn) == 10
    assert g.la_name(sn[0]) == "Surrey"
    assert len(g.statistical_neighbours("940")) == 10
    with pytest.raises(ParameterError):
        g.statistical_neighbours("942")  # created 2023, not in the 2021 model


def test_every_ons_code_maps(shared_data):
    """Every LA code pair in the ONS population file resolves to the same DfE number."""
    ons = pd.read_csv(shared_data / "ons" / "ons_mid-year_population_estimates_2012_to_2024.csv",
                      dtype=str, encoding="utf-8-sig")
    la = ons[ons["geographic_level"] == "Local authority"].drop_duplicates(
        ["old_la_code", "new_la_code"])
    assert len(la) > 150
    assert (la["new_la_code"].map(g.la_code) == la["old_la_code"]).all()


def test_shipped_resources_rebuild_identically(shared_data, tmp_path):
    g.write_resources(shared_data, tmp_path)
    shipped = g.__file__.replace("geography.py", "resources")
    for name in ("la_codes.csv", "statistical_neighbours.csv"):
        assert (tmp_path / name).read_bytes() == Path(shipped, name).read_bytes()


def test_statistical_neighbour_file_traps(shared_data):
    sn = g.build_statistical_neighbours(shared_data / "dfe" / "statistical_neighbours_2021.csv")
    assert list(sn.columns) == ["old_la_code", "la_name", "rank", "neighbour_code", "closeness"]
    # 152 LAs of 2021 plus the four pre-reorganisation rows, each with ten neighbours
    assert sn.groupby("old_la_code").size().eq(10).all()
    assert sn["old_la_code"].nunique() == 156
    assert sn.loc[sn["old_la_code"] == "835", "la_name"].iloc[0] == "Dorset"
