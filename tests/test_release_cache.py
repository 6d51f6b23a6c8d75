"""The release-level cache: content-addressed, invalidated by any changed input file, never
holding a council's child-level figures (only the generated synthetic county's records, apart),
emptied by one command."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from cpstats import release_cache
from cpstats.cli import main
from cpstats.paths import REFERENCE_DIR


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(release_cache.CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def release(tmp_path):
    """A copy of the shipped reference extract standing in for a DfE release folder."""
    folder = tmp_path / "release"
    shutil.copytree(REFERENCE_DIR, folder)
    return folder


def _counting():
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"series": ["825"], "point": [float(len(calls))]})

    return calls, compute


def test_a_second_run_reads_the_cache_instead_of_computing(cache, release):
    calls, compute = _counting()
    first = release_cache.cached(release, None, "work-2017", compute)
    second = release_cache.cached(release, None, "work-2017", compute)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, second)
    assert (release_cache.release_folder(release, None) / "work-2017.pickle").is_file()
    assert release_cache.release_folder(release, None).parent == cache


def test_a_changed_input_file_invalidates_the_cache(cache, release):
    calls, compute = _counting()
    key = release_cache.release_key(release, None)
    release_cache.cached(release, None, "work-2017", compute)
    facts = release / "facts.csv"
    facts.write_bytes(facts.read_bytes() + b"\n")  # one byte more in one input file
    assert release_cache.release_key(release, None) != key
    again = release_cache.cached(release, None, "work-2017", compute)
    assert len(calls) == 2 and again["point"].iloc[0] == 2.0


def test_the_same_bytes_elsewhere_share_a_key(tmp_path, release):
    moved = shutil.copytree(release, tmp_path / "elsewhere")
    assert release_cache.release_key(moved, None) == release_cache.release_key(release, None)


def test_the_key_names_the_blas_kernel(monkeypatch, release):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    plain = release_cache.release_key(release, None)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    assert release_cache.release_key(release, None) != plain


def test_child_level_figures_are_refused(cache, release):
    child = pd.DataFrame({"measure": ["cp_plans_at_31_march"], "source": ["synthetic"],
                          "value": [3.0]})
    with pytest.raises(ValueError, match="child-level"):
        release_cache.cached(release, None, "children-2017", lambda: child)
    assert not list(cache.rglob("*.pickle"))


def test_a_damaged_entry_is_computed_again(cache, release):
    calls, compute = _counting()
    release_cache.cached(release, None, "work-2017", compute)
    (release_cache.release_folder(release, None) / "work-2017.pickle").write_bytes(b"broken")
    release_cache.cached(release, None, "work-2017", compute)
    assert len(calls) == 2


def test_cache_info_and_clear_commands(cache, release, capsys):
    release_cache.cached(release, None, "work-2017", _counting()[1])
    assert main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    assert str(cache) in shown and "1 entries" in shown
    assert main(["cache", "clear"]) == 0
    assert "removed 1 cached releases" in capsys.readouterr().out
    assert release_cache.info().empty


def test_the_synthetic_county_is_generated_once_then_read_back_and_cleared(cache, monkeypatch,
                                                                           capsys):
    from cpstats import synth

    calls = []
    real = synth.generate

    def generate():
        calls.append(1)
        return real(years=(2016, 2017), scale=0.2)

    monkeypatch.setattr(synth, "generate", generate)
    first = release_cache.synthetic_county()
    again = release_cache.synthetic_county()
    assert calls == [1]
    assert first.source == again.source == "synthetic"
    pd.testing.assert_frame_equal(first.children, again.children)
    (kept,) = (cache / release_cache.SYNTHETIC).glob("county-*.pickle")
    kept.write_bytes(b"damaged")  # made again, not a crash
    release_cache.synthetic_county()
    assert calls == [1, 1]
    assert main(["cache", "info"]) == 0
    assert "0 releases" in capsys.readouterr().out  # the county is not a release
    assert release_cache.clear() == 0
    assert not any(cache.iterdir())
    release_cache.synthetic_county()
    assert calls == [1, 1, 1]


def test_only_the_newest_synthetic_county_is_kept(cache, monkeypatch):
    from cpstats import synth

    small = synth.generate(years=(2016, 2017), scale=0.2)
    monkeypatch.setattr(synth, "generate", lambda: small)
    folder = cache / release_cache.SYNTHETIC
    folder.mkdir(parents=True)
    (folder / "county-0.1-oldcode-py3.11.pickle").write_bytes(b"an older version's county")
    release_cache.synthetic_county()
    assert [p.name.startswith("county-0.1-oldcode") for p in folder.iterdir()] == [False]
