"""Bad inputs the hardening issue found refused cleanly, kept as regression tests: each is exit
2 with a message naming the file or parameter, no traceback, and nothing of a file the user
did not name (issue: hardening).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.test_smaller import _cpstats

D1 = "d1_child_protection_plans_2013_to_2022.csv"
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                    for i in range(9))
          + ']>\n<Message><Header>&j;</Header></Message>\n')


def _header(cin_2022: Path) -> str:
    return (cin_2022 / D1).read_text(encoding="utf-8-sig").splitlines()[0]


@pytest.mark.parametrize("kind", ["utf16", "binary", "empty", "huge_field"])
def test_a_csv_that_cannot_be_read_is_refused_by_name(kind, cin_2022, tmp_path):
    path = tmp_path / D1
    if kind == "utf16":
        path.write_bytes((cin_2022 / D1).read_text(encoding="utf-8-sig")[:5000]
                         .encode("utf-16"))
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_text(_header(cin_2022) + "\n" + "9" * 10_000_000 + "\n")
    result = _cpstats("check", str(path))
    said = result.stdout + result.stderr
    assert result.returncode == 2, said[-2000:]
    assert D1 in said and "Traceback" not in said and len(said) < 20_000


@pytest.mark.parametrize("kind", ["laughs", "external"])
def test_xml_entities_are_never_expanded(kind, tmp_path):
    private = tmp_path / "private.txt"
    private.write_text("PRIVATE-CONTENT")
    path = tmp_path / "cin_census_2017.xml"
    path.write_text(LAUGHS if kind == "laughs" else
                    f'<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY x SYSTEM '
                    f'"file://{private}">]>\n<Message><Header>&x;</Header></Message>\n')
    result = _cpstats("check", str(path))
    said = result.stdout + result.stderr
    assert result.returncode == 2, said[-2000:]
    assert "cin_census_2017.xml" in said and "Traceback" not in said
    assert "PRIVATE-CONTENT" not in said and "aaaaaaaaaaaaaaaaaaaa" not in said


@pytest.mark.parametrize(("option", "value"), [
    ("--la", "825; touch {flag}"), ("--year", "2017 && touch {flag}"),
    ("--dfe-dir", "$(touch {flag})"), ("--service", "`touch {flag}`.csv")])
def test_shell_metacharacters_in_a_parameter_are_only_text(option, value, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    flag = tmp_path / "flag"
    result = _cpstats("report", "--no-progress", option, value.format(flag=flag))
    assert not flag.exists()
    assert result.returncode == 2, result.stderr[-2000:]
    assert option in result.stderr and "Traceback" not in result.stderr
