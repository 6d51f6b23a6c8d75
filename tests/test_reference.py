"""The shipped reference extract: rebuildable, byte-identical, compact, correct."""

from __future__ import annotations

import pytest

from cpstats import geography, reference
from cpstats.facts import select, value_of
from cpstats.paths import REFERENCE_DIR


@pytest.fixture(scope="module")
def rebuilt(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    dfe_dir, ons = shared_data / "dfe" / "cin_2022", shared_data / "ons"
    facts = reference.build_reference(dfe_dir, ons)
    all_las = reference.build_all_las(dfe_dir, ons)
    census = reference.build_census_extract(shared_data / "census")
    return (facts, reference.write_reference(facts, out), reference.write_all_las(all_las, out),
            reference.write_census_extract(census, out))


def test_rebuild_equals_committed_files(rebuilt):
    _, path, all_las, census = rebuilt
    for built, name in ((path, reference.REFERENCE_FILE), (all_las, reference.ALL_LA_FILE),
                        (census, reference.CENSUS_EXTRACT.name)):
        assert built.read_bytes() == (REFERENCE_DIR / name).read_bytes(), (
            f"data/reference/{name} is stale: run 'cpstats reference build'")


def test_compact_and_complete():
    size = sum(f.stat().st_size for f in REFERENCE_DIR.iterdir())
    assert size < 800_000  # the whole folder "well under 1 MB"
    ref = reference.load_reference(all_las=False)
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


def test_disability_proxy_for_every_area():
    ref = reference.load_reference(all_las=False)
    rows = select(ref, measure="cin_with_disability_pct", period="2016-17", breakdown="total")
    assert len(rows) == 13 and rows["value"].notna().all()
    # DfE b2, 2017: Buckinghamshire 518 of 3,306 children in need (15.7%)
    bucks = {"geography_code": "825", "period": "2016-17", "breakdown": "total"}
    assert value_of(ref, measure="cin_with_disability_pct", **bucks) == 15.7
    assert value_of(ref, measure="cin_with_disability", **bucks) == 518


def test_all_las_rows_are_the_release_rows(shared_data):
    from cpstats.io.dfe import read_release

    rows = reference.load_all_las()
    release = read_release(shared_data / "dfe" / "cin_2022")
    release = release[(release["geography_level"] == "local_authority")
                      & (release["breakdown"] == "total")
                      & release["measure"].isin(reference.ALL_LA_MEASURES)
                      & (release["period"] >= "2012-13")]
    assert set(rows["geography_code"]) == set(release["geography_code"])
    keys = ["geography_code", "period", "measure"]
    # The derived ICPC timeliness share (from DfE's day bands) is kept as the reader derives it.
    derived = rows[rows["source"] == "derived"].merge(
        release[release["source"] == "derived"], on=keys, suffixes=("", "_release"))
    assert len(derived) == (rows["source"] == "derived").sum() > 1000
    assert (derived["value"] - derived["value_release"]).abs().max() < 1e-6
    release = release[release["source"] == "dfe"]
    published = rows[rows["source"] == "dfe"].merge(release, on=keys, how="outer",
                                                    suffixes=("", "_release"), indicator=True)
    assert (published["_merge"] == "both").all()  # nothing lost, nothing added
    assert published["value"].equals(published["value_release"])
    assert published["marker"].equals(published["marker_release"])
    assert (published["note"] == published["note_release"]).all()


def test_all_las_published_figures_and_markers():
    ref = reference.load_reference()
    assert ref["geography_code"].nunique() > 150  # every LA, not only Bucks' neighbours
    assert not ref.duplicated(["geography_code", "period", "measure", "breakdown", "source"]).any()
    # Birmingham is in no table of facts.csv: DfE d1, c4, c1 and ONS, year ending March 2017
    brum = {"geography_code": "330", "period": "2016-17", "breakdown": "total"}
    assert value_of(ref, measure="cp_plans_at_31_march", **brum) == 983
    assert value_of(ref, measure="cp_rate_per_10k", **brum) == 34.3
    assert value_of(ref, measure="cp_plans_started", **brum) == 1608
    assert value_of(ref, measure="cp_plans_ended", **brum) == 1472
    assert value_of(ref, measure="s47_enquiries", **brum) == 3873
    assert value_of(ref, measure="s47_enquiries_rate_per_10k", **brum) == 135.2
    assert value_of(ref, measure="icpcs", **brum) == 1726
    assert value_of(ref, measure="referrals", **brum) == 17417
    assert value_of(ref, measure="population_0_17", source="ons", **brum) == 291299
    # City of London's plans at 31 March 2017 are suppressed: a marker, no value
    city = select(ref, geography_code="201", period="2016-17", measure="cp_plans_at_31_march")
    assert city["value"].isna().all() and city["marker"].tolist() == ["c"]
    assert select(ref, geography_code="201", period="2016-17",
                  measure="s47_enquiries")["value"].tolist() == [10]


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
    out = capsys.readouterr().out
    assert "13 areas" in out and "LA-years" in out
    for name in (reference.REFERENCE_FILE, reference.ALL_LA_FILE):
        assert (tmp_path / "ref" / name).read_bytes() == (REFERENCE_DIR / name).read_bytes()
    bad = parser.parse_args(["reference", "build", "--dfe-dir", str(tmp_path / "none"),
                             "--out", str(tmp_path / "bad")])
    with pytest.raises(InputError, match="a folder of DfE CIN CSVs"):
        bad.func(bad)
    assert not (tmp_path / "bad" / "facts.csv").exists()
    assert not (tmp_path / "bad" / "all_las.csv").exists()
