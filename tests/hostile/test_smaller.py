"""The smaller cases of the hardening issue: weak secrets, markers that changed meaning on the
way, messages that named too little or echoed too much (issue: hardening).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cpstats.errors import InputError
from cpstats.identifiers import estimated_bits, load_secret


def as_council(data):  # noqa: ANN001, ANN201 -- CinData in, CinData out
    """Synthetic records written as a council's own return (not marked synthetic in the XML),
    so the reader treats them as one: the local secret, rejection, the council's wording."""
    from dataclasses import replace

    return replace(data, source="cin_census")


def _cpstats(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "cpstats.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("secret", ["a" * 16, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Ab1!" * 4])
def test_a_secret_below_128_bits_is_refused(monkeypatch, secret):
    monkeypatch.setenv("CPSTATS_SECRET", secret)
    with pytest.raises(InputError, match="128 bits") as raised:
        load_secret()
    assert "CPSTATS_SECRET" in str(raised.value) and secret not in str(raised.value)


def test_a_random_secret_passes_and_the_estimate_orders_secrets(monkeypatch):
    import secrets

    strong = secrets.token_hex(32)
    monkeypatch.setenv("CPSTATS_SECRET", strong)
    assert load_secret() == strong.encode()
    assert estimated_bits("a" * 16) < estimated_bits("abcdefghijklmnop") < estimated_bits(strong)


def test_check_refuses_a_weak_secret_with_exit_2(tmp_path: Path):
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate(years=(2017, 2017), scale=0.01)
    path = write_return(as_council(county.data), tmp_path / "cin_census_2017.xml",
                        la_child_ids=county.la_child_ids)
    result = _cpstats("check", str(path), env={"CPSTATS_SECRET": "x" * 16})
    assert result.returncode == 2, result.stderr
    assert "CPSTATS_SECRET" in result.stderr + result.stdout
    assert "128 bits" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_dfe_c_stays_c_in_results_csv(cin_2022, tmp_path):
    """City of London 2016-17: children on plans and the rate are ``c`` in DfE's d1 (suppressed);
    results.csv once said ``x`` (not available). Round trip through the saved results."""
    from cpstats import inputs
    from cpstats.results import read_results
    from cpstats.themes import trends
    from cpstats.themes.base import ThemeData

    data = ThemeData(inputs.resolve(la="201", year="2016-17", dfe_dir=cin_2022))
    for section in (trends.stock(data), trends.rates(data)):
        section.findings.save(tmp_path / section.key)
        saved = read_results(tmp_path / section.key / "results" / "01_trends.csv")
        row = saved[(saved["geography_code"] == "201") & (saved["period"] == "2016-17")
                    & saved["measure"].isin(["cp_plans_at_31_march", "cp_rate_per_10k"])]
        assert len(row) == 1 and row["value"].isna().all()
        assert row["marker"].tolist() == ["c"]


@pytest.mark.parametrize(("broken", "said"), [(7, "7 of its"), (3, "from 1 to 5 of its")])
def test_children_the_reader_rejected_are_counted_in_the_report_never_named(
        tmp_path, monkeypatch, broken, said):
    import re
    import secrets

    from cpstats import inputs, synth
    from cpstats.io.cin_census_writer import write_return
    from cpstats.themes.base import ThemeData

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    county = synth.generate(years=(2017, 2017), scale=0.01)
    path = write_return(as_council(county.data), tmp_path / "cin_census_2017.xml",
                        la_child_ids=county.la_child_ids)
    text = path.read_text()
    for date in re.findall(r"<PersonBirthDate>[^<]*</PersonBirthDate>", text)[:broken]:
        text = text.replace(date, "<PersonBirthDate>2017-02-30</PersonBirthDate>", 1)
    path.write_text(text)
    data = ThemeData(inputs.resolve(la="825", year="2016-17", cin_census=[path]))
    intro = data.intro()
    assert said in intro and "left out because their records had errors" in intro
    rejected = {p.child for p in data.child_level.summary.errors}
    assert rejected and not any(child in intro for child in rejected)


def test_an_entity_reference_is_named_as_an_entity_never_expanded(tmp_path, monkeypatch):
    """Measured before: named as element ``<<cyfunction Entity...>>``."""
    import secrets

    from cpstats import synth
    from cpstats.io.cin_census import read_returns
    from cpstats.io.cin_census_writer import write_return

    monkeypatch.setenv("CPSTATS_SECRET", secrets.token_hex(32))
    county = synth.generate(years=(2017, 2017), scale=0.01)
    path = write_return(as_council(county.data), tmp_path / "cin_census_2017.xml",
                        la_child_ids=county.la_child_ids)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("NOT-TO-BE-READ")
    doctype = f'<!DOCTYPE Message [<!ENTITY xxe SYSTEM "file://{secret_file}">]>\n'
    text = path.read_text()
    head, _, rest = text.partition("\n") if text.startswith("<?xml") else ("", "", text)
    path.write_text(head + "\n" + doctype + rest.replace("<ChildIdentifiers>",
                                                          "<ChildIdentifiers>&xxe;", 1))
    said = [str(p) for p in read_returns(path).summary.problems if p.rule == "unexpected-entity"]
    assert len(said) == 1 and "'&xxe;'" in said[0] and "element <ChildIdentifiers>" in said[0]
    assert "cyfunction" not in said[0] and "NOT-TO-BE-READ" not in said[0]


def test_a_duplicate_row_is_named_by_its_rows(cin_2022, tmp_path):
    """Measured before: 'duplicate rows found' named no row."""
    lines = (cin_2022 / "d1_child_protection_plans_2013_to_2022.csv").read_text(
        encoding="utf-8-sig").splitlines()
    folder = tmp_path / "release"
    folder.mkdir()
    (folder / "d1_child_protection_plans_2013_to_2022.csv").write_text(
        "\n".join([*lines[:40], lines[30], *lines[40:60]]) + "\n", encoding="utf-8")
    result = _cpstats("check", str(folder))
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert "row 31" in said and "(rows 31, 41)" in said and "duplicate row" in said


@pytest.mark.parametrize("command", ["check", "report"])
def test_a_linked_file_s_error_never_echoes_its_target(tmp_path, command):
    """Measured before: a symlinked file's error echoed two lines of its target."""
    target = tmp_path / "elsewhere" / "private.txt"
    target.parent.mkdir()
    target.write_text("time_period,geographic_level\nPRIVATE-LINE-ONE\nPRIVATE-LINE-TWO\n")
    release = tmp_path / "release"
    release.mkdir()
    (release / "d1_child_protection_plans_2013_to_2022.csv").symlink_to(target)
    args = (["check", str(release)] if command == "check" else
            ["report", "--no-progress", "--la", "825", "--dfe-dir", str(release), "--out",
             str(tmp_path / "reports")])
    result = _cpstats(*args)
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert "PRIVATE-LINE" not in said and "Traceback" not in said
    assert "d1_child_protection_plans_2013_to_2022.csv" in said
