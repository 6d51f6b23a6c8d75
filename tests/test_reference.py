"""The shipped reference extract: rebuildable, byte-identical, compact, correct."""

from __future__ import annotations

import pytest

from cpstats import geography, reference
from cpstats.facts import select, value_of
from cpstats.paths import REFERENCE_DIR


@pytest.fixture(scope="module")
def rebuilt(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    facts = reference.build_reference(shared_data / "dfe" / "cin_2022", shared_data / "ons")
    return facts, reference.write_reference(facts, out)


def test_rebuild_equals_committed_file(rebuilt):
    _, path = rebuilt
    committed = REFERENCE_DIR / reference.REFERENCE_FILE
    assert path.read_bytes() == committed.read_bytes(), (
        "data/reference is stale: run 'cpstats reference build'")


def test_compact_and_complete():
    path = REFERENCE_DIR / reference.REFERENCE_FILE
    assert path.stat().st_size < 600_000  # "well under 1 MB"
    ref = reference.load_reference()
    areas = set(ref["geography_code"])
    assert areas == {"E92000001", "E12000008", "825", *geography.statistical_neighbours("825")}
    assert len(areas) == 13
    assert min(ref["period"].str.slice(0, 4)) == "2012"  # year ending March 2013 onwards
    assert set(ref["source"]) == {"dfe", "derived", "ons"}


def test_published_figures_survive_the_round_trip():
    ref = reference.load_reference()
    bucks = {"geography_code": "825", "period": "2016-17", "breakdown": "total"}
    assert value_of(ref, measure="cp_plans_at_31_march", source="dfe", **bucks) == 553
    assert value_of(ref, measure="cp_rate_per_10k", source="dfe", **bucks) == 45.2
    assert value_of(ref, measure="referrals", source="dfe", **bucks) == 9204
    assert value_of(ref, measure="s47_enquiries", source="dfe", **bucks) == 2576
    assert value_of(ref, measure="icpcs", source="dfe", **bucks) == 866
    share = value_of(ref, measure="icpc_within_15_working_days_pct", source="derived", **bucks)
    assert round(share, 1) == 69.6
    assert value_of(ref, geography_code="E92000001", period="2015-16", measure="cp_rate_per_10k",
                    breakdown="total", source="dfe") == 43.1
    # Bucks' 2016-17 plans of 1-2 and 2+ years are suppressed: still markers after writing
    cells = select(ref, geography_code="825", period="2016-17", measure="cp_by_duration")
    assert cells.loc[cells["value"].isna(), "marker"].tolist() == ["c", "c"]
    # the ONS row DfE pairs with 2016-17 (time_period 2017), one series across GSS codes
    pops = select(ref, geography_code="825", measure="population_0_17")
    assert len(pops) == pops["period"].nunique() >= 10


def test_missing_extract_is_a_clear_error(tmp_path):
    from cpstats.errors import InputError

    with pytest.raises(InputError, match="cpstats reference build"):
        reference.load_reference(tmp_path)


def test_command_builds_into_out_and_rejects_bad_folder(shared_data, tmp_path, capsys):
    import argparse

    from cpstats.commands import reference as command
    from cpstats.errors import InputError

    parser = argparse.ArgumentParser(prog="cpstats")
    command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reference", "build", "--out", str(tmp_path / "ref")])
    assert args.func(args) == 0
    assert "13 areas" in capsys.readouterr().out
    assert (tmp_path / "ref" / "facts.csv").read_bytes() == (
        REFERENCE_DIR / reference.REFERENCE_FILE).read_bytes()
    bad = parser.parse_args(["reference", "build", "--dfe-dir", str(tmp_path / "none"),
                             "--out", str(tmp_path / "bad")])
    with pytest.raises(InputError, match="a folder of DfE CIN CSVs"):
        bad.func(bad)
    assert not (tmp_path / "bad" / "facts.csv").exists()
